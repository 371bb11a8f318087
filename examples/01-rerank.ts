/**
 * Example 1 of the source article: rerank documents for one query and show where each one started.
 * Run: `npx tsx examples/01-rerank.ts [MODEL]` — MODEL is a cross-encoder folder or hub id; `default` (the default)
 * is the built-in cross-encoder on the pretrained USE Lite backbone (shipped in the package), `use-lite` the bi-encoder.
 */
import { readFile } from 'node:fs/promises';
import { DEFAULT_RERANKER, loadRanker } from 'rankwise';

const data = JSON.parse(await readFile(new URL('../datasets/quickstart.json', import.meta.url), 'utf8')) as {
  query: string;
  documents: Array<{ text: string; relevant: boolean }>;
};
const model = process.argv[2] ?? DEFAULT_RERANKER;
const ranker = await loadRanker(model);
const ranked = await ranker.rank(
  data.query,
  data.documents.map((d) => d.text),
  { topK: 5 },
);
console.log(`Query: ${ranked.query}\nModel: ${ranked.model}\n`);
for (const r of ranked.results) {
  const mark = data.documents[r.index].relevant ? ' (relevant)' : '';
  console.log(`#${r.rank} (score ${r.score.toFixed(4)}) [was #${r.index}] ${r.document.text?.slice(0, 70)}…${mark}`);
}
await ranker.dispose();
