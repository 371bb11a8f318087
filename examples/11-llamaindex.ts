/**
 * Rerank LlamaIndex.TS nodes: `RankwiseNodePostprocessor` is a node postprocessor, for a query engine's
 * `nodePostprocessors` or a retriever's output; it sets each node's score to the reranker's and keeps the best
 * `topN`. Needs `@llamaindex/core` (which `llamaindex` brings).
 * Run: `npx tsx examples/11-llamaindex.ts [MODEL]` (MODEL defaults to `default`, the built-in reranker).
 */
import { readFile } from 'node:fs/promises';
import { TextNode, type NodeWithScore } from '@llamaindex/core/schema';
import { DEFAULT_RERANKER } from 'rankwise';
import { RankwiseNodePostprocessor } from 'rankwise/llamaindex';

const data = JSON.parse(await readFile(new URL('../datasets/quickstart.json', import.meta.url), 'utf8')) as {
  query: string;
  documents: Array<{ id: string; text: string; relevant: boolean }>;
};
// What a retriever hands over: nodes with its own similarity scores (here, just the input order).
const retrieved: NodeWithScore[] = data.documents.map((d, i) => ({
  node: new TextNode({ id_: d.id, text: d.text, metadata: { relevant: d.relevant } }),
  score: 1 - i / data.documents.length,
}));

const postprocessor = new RankwiseNodePostprocessor({ ranker: process.argv[2] ?? DEFAULT_RERANKER, topN: 3 });
const best = await postprocessor.postprocessNodes(retrieved, data.query);
console.log(`Query: ${data.query}\n`);
best.forEach(({ node, score }, i) => {
  const mark = node.metadata.relevant ? ' (relevant)' : '';
  console.log(`#${i + 1} (score ${score!.toFixed(4)}) [${node.id_}] ${(node as TextNode).text.slice(0, 60)}…${mark}`);
});
await postprocessor.dispose();
