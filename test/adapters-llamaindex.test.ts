/**
 * The LlamaIndex.TS adapter against the real @llamaindex/core nodes with the real built-in reranker: scores set on
 * NodeWithScore identical to calling the ranker directly, nodes kept, topN, query as message content, metadata mode,
 * bad input, and the example script's output.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BaseNodePostprocessor } from '@llamaindex/core/postprocessor';
import { MetadataMode, TextNode, type NodeWithScore } from '@llamaindex/core/schema';
import { RankwiseNodePostprocessor } from '../src/adapters/llamaindex.js';
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

before(async () => {
  data = JSON.parse(await readFile(join(ROOT, 'datasets/quickstart.json'), 'utf8')) as Quickstart;
  ranker = await loadRanker(DEFAULT_RERANKER);
});

after(async () => {
  await ranker.dispose?.();
});

/** A retriever's output: nodes with its own scores (input order). */
function retrieved(): NodeWithScore[] {
  return data.documents.map((d, i) => ({
    node: new TextNode({ id_: d.id, text: d.text, metadata: { relevant: d.relevant, topic: 'vaccines' } }),
    score: 1 - i / 10,
  }));
}

async function directRanking(documents: string[], topK?: number): Promise<Array<[number, number]>> {
  const ranked = await ranker.rank(data.query, documents, { topK });
  return ranked.results.map((r) => [r.index, r.score]);
}

test('postprocessNodes orders the nodes by the ranker\'s score and sets it on each NodeWithScore', async () => {
  const postprocessor: BaseNodePostprocessor = new RankwiseNodePostprocessor({ ranker });
  const nodes = retrieved();
  const reranked = await postprocessor.postprocessNodes(nodes, data.query);
  const expected = await directRanking(data.documents.map((d) => d.text));
  assert.deepEqual(reranked.map((n) => [nodes.findIndex((m) => m.node === n.node), n.score]), expected);
  assert.deepEqual(reranked.map((n) => n.node.id_), expected.map(([i]) => data.documents[i].id));
  // The retriever's list keeps its own scores.
  assert.deepEqual(nodes.map((n) => n.score), data.documents.map((_, i) => 1 - i / 10));
});

test('topN, a query given as message content, and a model name loaded on first use', async () => {
  const postprocessor = new RankwiseNodePostprocessor({ ranker: DEFAULT_RERANKER, topN: 3 });
  try {
    assert.equal(postprocessor.topN, 3);
    const reranked = await postprocessor.postprocessNodes(retrieved(), [{ type: 'text', text: data.query }]);
    const expected = await directRanking(data.documents.map((d) => d.text), 3);
    assert.deepEqual(reranked.map((n) => [n.node.id_, n.score]), expected.map(([i, score]) => [data.documents[i].id, score]));
    assert.deepEqual(await postprocessor.postprocessNodes([], data.query), []);
  } finally {
    await postprocessor.dispose();
  }
});

test('metadataMode LLM scores the node as LlamaIndex formats it for an LLM, metadata included', async () => {
  const nodes = retrieved();
  const reranked = await new RankwiseNodePostprocessor({ ranker, metadataMode: MetadataMode.LLM }).postprocessNodes(nodes, data.query);
  const formatted = nodes.map((n) => n.node.getContent(MetadataMode.LLM));
  assert.match(formatted[0], /topic: vaccines/);
  assert.deepEqual(reranked.map((n) => [nodes.findIndex((m) => m.node === n.node), n.score]), await directRanking(formatted));
});

test('bad input names the field', async () => {
  const postprocessor = new RankwiseNodePostprocessor({ ranker });
  await assert.rejects(postprocessor.postprocessNodes(retrieved()), (e: unknown) => e instanceof InputError && e.field === 'query');
  await assert.rejects(
    postprocessor.postprocessNodes([{ node: { text: 'not a node' } } as unknown as NodeWithScore], data.query),
    (e: unknown) => e instanceof InputError && e.field === 'nodes[0].node',
  );
  assert.throws(() => new RankwiseNodePostprocessor({ ranker, metadataMode: 'SOME' as MetadataMode }), (e: unknown) => e instanceof InputError && e.field === 'metadataMode');
  assert.throws(() => new RankwiseNodePostprocessor({ ranker, topN: 1.5 }), (e: unknown) => e instanceof InputError && e.field === 'topN');
});

test('examples/11-llamaindex.ts runs and prints the best nodes', { timeout: 120_000 }, async () => {
  const { stdout } = await run(process.execPath, ['--conditions=rankwise-source', '--import', 'tsx', join(ROOT, 'examples/11-llamaindex.ts')], { cwd: ROOT });
  const [[index, score]] = await directRanking(data.documents.map((d) => d.text));
  assert.match(stdout, new RegExp(`#1 \\(score ${score.toFixed(4)}\\) \\[${data.documents[index].id}\\]`));
  assert.equal(stdout.match(/^#\d/gm)?.length, 3);
});
