/**
 * Rerank with the Vercel AI SDK's `rerank()`: `rankwiseReranker()` is a reranking model of the SDK's provider
 * specification (v3) that runs locally. Documents may be strings or JSON objects (an object is scored by its `text`
 * field, or by its JSON when it has none); `ranking` gives each one's original index and score. Needs `ai`.
 * Run: `npx tsx examples/10-ai-sdk.ts [MODEL]` (MODEL defaults to `default`, the built-in reranker).
 */
import { readFile } from 'node:fs/promises';
import { rerank } from 'ai';
import { DEFAULT_RERANKER } from 'rankwise';
import { rankwiseReranker } from 'rankwise/ai-sdk';

const data = JSON.parse(await readFile(new URL('../datasets/quickstart.json', import.meta.url), 'utf8')) as {
  query: string;
  documents: Array<{ id: string; text: string; relevant: boolean }>;
};

const model = rankwiseReranker(process.argv[2] ?? DEFAULT_RERANKER);
const { ranking } = await rerank({ model, query: data.query, documents: data.documents, topN: 3 });
console.log(`Query: ${data.query}\n`);
ranking.forEach(({ originalIndex, score, document }, i) => {
  const mark = document.relevant ? ' (relevant)' : '';
  console.log(`#${i + 1} (score ${score.toFixed(4)}) [was #${originalIndex}, ${document.id}] ${document.text.slice(0, 60)}…${mark}`);
});
await model.dispose();
