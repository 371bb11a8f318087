/**
 * The LangChain.js adapter against the real @langchain/core (and @langchain/classic's ContextualCompressionRetriever)
 * with the real built-in reranker: scores identical to calling the ranker directly, metadata and ids kept, topN, and
 * the example script's output.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ContextualCompressionRetriever } from '@langchain/classic/retrievers/contextual_compression';
import { Document, type DocumentInterface } from '@langchain/core/documents';
import { BaseRetriever } from '@langchain/core/retrievers';
import { BaseDocumentCompressor } from '@langchain/core/retrievers/document_compressors';
import { RankwiseDocumentCompressor } from '../src/adapters/langchain.js';
import { InputError } from '../src/errors.js';
import { DEFAULT_RERANKER, loadRanker } from '../src/rank/load-ranker.js';
import type { Ranker } from '../src/rank/results.js';
import { ROOT, run } from './helpers/cli.js';

interface Quickstart {
  query: string;
  documents: Array<{ id: string; text: string; relevant: boolean }>;
}

let data: Quickstart;
let ranker: Ranker;
/** The ranker's own answer, for comparison: score by input position, and the order. */
let direct: { scores: number[]; order: number[] };

before(async () => {
  data = JSON.parse(await readFile(join(ROOT, 'datasets/quickstart.json'), 'utf8')) as Quickstart;
  ranker = await loadRanker(DEFAULT_RERANKER);
  const ranked = await ranker.rank(data.query, data.documents.map((d) => d.text));
  const scores = new Array<number>(data.documents.length);
  for (const r of ranked.results) scores[r.index] = r.score;
  direct = { scores, order: ranked.results.map((r) => r.index) };
});

after(async () => {
  await ranker.dispose?.();
});

function langchainDocuments(): Document[] {
  return data.documents.map((d, i) => new Document({ id: d.id, pageContent: d.text, metadata: { relevant: d.relevant, position: i } }));
}

test('compressDocuments reorders by the ranker\'s score, keeps pageContent, id and metadata, adds relevanceScore', async () => {
  const compressor = new RankwiseDocumentCompressor({ ranker });
  assert.ok(compressor instanceof BaseDocumentCompressor);
  const documents = langchainDocuments();
  const compressed = await compressor.compressDocuments(documents, data.query);
  assert.equal(compressed.length, documents.length);
  assert.deepEqual(compressed.map((d) => d.metadata.position), direct.order);
  for (const document of compressed) {
    const position = document.metadata.position as number;
    assert.ok(document instanceof Document);
    assert.equal(document.pageContent, data.documents[position].text);
    assert.equal(document.id, data.documents[position].id);
    assert.equal(document.metadata.relevant, data.documents[position].relevant);
    assert.equal(document.metadata.relevanceScore, direct.scores[position]);
  }
  // The caller's documents are untouched (LangChain's CohereRerank writes into them).
  assert.ok(documents.every((d) => !('relevanceScore' in d.metadata)));
});

test('topN keeps the best documents; a model name is loaded on first use', async () => {
  const byName = new RankwiseDocumentCompressor({ ranker: DEFAULT_RERANKER, topN: 3 });
  try {
    assert.equal(byName.topN, 3);
    const compressed = await byName.compressDocuments(langchainDocuments(), data.query);
    assert.deepEqual(compressed.map((d) => d.metadata.position), direct.order.slice(0, 3));
    assert.deepEqual(compressed.map((d) => d.metadata.relevanceScore), direct.order.slice(0, 3).map((i) => direct.scores[i]));
    assert.deepEqual(await byName.compressDocuments([], data.query), []);
  } finally {
    await byName.dispose();
  }
});

/** A retriever over a fixed list: the first stage whose output the compression retriever reranks. */
class ListRetriever extends BaseRetriever {
  override lc_namespace = ['rankwise', 'test'];

  constructor(private readonly documents: DocumentInterface[]) {
    super();
  }

  override async _getRelevantDocuments(): Promise<DocumentInterface[]> {
    return this.documents;
  }
}

test('inside a ContextualCompressionRetriever', async () => {
  const retriever = new ContextualCompressionRetriever({
    baseCompressor: new RankwiseDocumentCompressor({ ranker, topN: 4 }),
    baseRetriever: new ListRetriever(langchainDocuments()),
  });
  const found = await retriever.invoke(data.query);
  assert.deepEqual(found.map((d) => d.id), direct.order.slice(0, 4).map((i) => data.documents[i].id));
  assert.deepEqual(found.map((d) => d.metadata.relevanceScore), direct.order.slice(0, 4).map((i) => direct.scores[i]));
});

test('bad input names the field', async () => {
  assert.throws(() => new RankwiseDocumentCompressor({ ranker, topN: 0 }), (e: unknown) => e instanceof InputError && e.field === 'topN');
  const compressor = new RankwiseDocumentCompressor({ ranker });
  await assert.rejects(
    compressor.compressDocuments([new Document({ pageContent: 'fine' }), { pageContent: 42 } as unknown as DocumentInterface], data.query),
    (e: unknown) => e instanceof InputError && e.field === 'documents[1].pageContent',
  );
  await assert.rejects(compressor.compressDocuments(langchainDocuments(), ''), /query: expected a non-empty string/);
});

test('examples/09-langchain.ts runs and prints the compressed documents', { timeout: 120_000 }, async () => {
  const { stdout } = await run(process.execPath, ['--conditions=rankwise-source', '--import', 'tsx', join(ROOT, 'examples/09-langchain.ts')], { cwd: ROOT });
  const best = data.documents[direct.order[0]];
  assert.match(stdout, new RegExp(`#1 \\(relevanceScore ${direct.scores[direct.order[0]].toFixed(4)}\\) \\[${best.id}\\]`));
  assert.equal(stdout.match(/^#\d/gm)?.length, 3);
});
