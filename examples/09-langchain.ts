/**
 * Rerank LangChain.js documents: `RankwiseDocumentCompressor` is a `BaseDocumentCompressor`, the slot of LangChain's
 * `CohereRerank`, so it also fits a `ContextualCompressionRetriever`. Documents keep their id and metadata and gain
 * `metadata.relevanceScore`. Needs `@langchain/core` (an optional peer of rankwise).
 * Run: `npx tsx examples/09-langchain.ts [MODEL]` (MODEL defaults to `default`, the built-in reranker).
 */
import { readFile } from 'node:fs/promises';
import { Document } from '@langchain/core/documents';
import { DEFAULT_RERANKER } from 'rankwise';
import { RankwiseDocumentCompressor } from 'rankwise/langchain';

const data = JSON.parse(await readFile(new URL('../datasets/quickstart.json', import.meta.url), 'utf8')) as {
  query: string;
  documents: Array<{ id: string; text: string; relevant: boolean }>;
};
const documents = data.documents.map((d) => new Document({ id: d.id, pageContent: d.text, metadata: { relevant: d.relevant } }));

const compressor = new RankwiseDocumentCompressor({ ranker: process.argv[2] ?? DEFAULT_RERANKER, topN: 3 });
const best = await compressor.compressDocuments(documents, data.query);
console.log(`Query: ${data.query}\n`);
best.forEach((d, i) => {
  const mark = d.metadata.relevant ? ' (relevant)' : '';
  console.log(`#${i + 1} (relevanceScore ${(d.metadata.relevanceScore as number).toFixed(4)}) [${d.id}] ${d.pageContent.slice(0, 60)}…${mark}`);
});
await compressor.dispose();
