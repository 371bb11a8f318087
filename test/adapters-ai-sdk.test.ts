/**
 * The AI SDK adapter through the real `rerank()` of `ai` with the real built-in reranker: text and object documents,
 * `ranking` with original indices and scores identical to calling the ranker directly, topN, aborts, bad input, and
 * the example script's output.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RerankingModelV3 } from '@ai-sdk/provider';
import { rerank } from 'ai';
import { RankwiseRerankingModel, rankwiseReranker } from '../src/adapters/ai-sdk.js';
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
let texts: string[];

before(async () => {
  data = JSON.parse(await readFile(join(ROOT, 'datasets/quickstart.json'), 'utf8')) as Quickstart;
  texts = data.documents.map((d) => d.text);
  ranker = await loadRanker(DEFAULT_RERANKER);
});

after(async () => {
  await ranker.dispose?.();
});

/** The ranker's own answer: [original index, score] best first. */
async function directRanking(documents: string[], topK?: number): Promise<Array<[number, number]>> {
  const ranked = await ranker.rank(data.query, documents, { topK });
  return ranked.results.map((r) => [r.index, r.score]);
}

test('rerank() with text documents: ranking, original indices and scores as the ranker gives them', async () => {
  const model: RerankingModelV3 = new RankwiseRerankingModel({ ranker });
  assert.equal(model.specificationVersion, 'v3');
  assert.equal(model.provider, 'rankwise');
  assert.equal(model.modelId, ranker.name);
  const result = await rerank({ model, query: data.query, documents: texts });
  const expected = await directRanking(texts);
  assert.deepEqual(result.ranking.map((r) => [r.originalIndex, r.score]), expected);
  assert.deepEqual(result.ranking.map((r) => r.document), expected.map(([i]) => texts[i]));
  assert.deepEqual(result.rerankedDocuments, expected.map(([i]) => texts[i]));
  assert.equal(result.response.modelId, ranker.name);
});

test('rerank() with object documents: a text field is scored, otherwise the JSON; the caller\'s objects come back', async () => {
  const model = new RankwiseRerankingModel({ ranker });
  const withText = data.documents;
  const result = await rerank({ model, query: data.query, documents: withText });
  const expected = await directRanking(texts);
  assert.deepEqual(result.ranking.map((r) => [r.originalIndex, r.score]), expected);
  assert.ok(result.ranking.every((r) => r.document === withText[r.originalIndex]));

  const withoutText = data.documents.map((d) => ({ id: d.id, body: d.text }));
  const byJson = await rerank({ model, query: data.query, documents: withoutText });
  assert.deepEqual(byJson.ranking.map((r) => [r.originalIndex, r.score]), await directRanking(withoutText.map((d) => JSON.stringify(d))));
});

test('topN: from the call, or the model\'s own; a model name is loaded on first use', async () => {
  const model = rankwiseReranker(DEFAULT_RERANKER, { topN: 2 });
  try {
    assert.equal(model.modelId, DEFAULT_RERANKER);
    const own = await rerank({ model, query: data.query, documents: texts });
    assert.deepEqual(own.ranking.map((r) => [r.originalIndex, r.score]), await directRanking(texts, 2));
    const fromCall = await rerank({ model, query: data.query, documents: texts, topN: 4 });
    assert.deepEqual(fromCall.ranking.map((r) => [r.originalIndex, r.score]), await directRanking(texts, 4));
  } finally {
    await model.dispose();
  }
});

test('an aborted call and bad input are refused, naming the field', async () => {
  const model = new RankwiseRerankingModel({ ranker });
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(rerank({ model, query: data.query, documents: texts, abortSignal: controller.signal, maxRetries: 0 }), { name: 'AbortError' });
  await assert.rejects(
    model.doRerank({ query: data.query, documents: { type: 'text', values: ['fine', 7 as unknown as string] } }),
    (e: unknown) => e instanceof InputError && e.field === 'documents.values[1]',
  );
  await assert.rejects(
    model.doRerank({ query: data.query, documents: { type: 'object', values: [['not', 'an', 'object'] as unknown as { text: string }] } }),
    (e: unknown) => e instanceof InputError && e.field === 'documents.values[0]',
  );
  await assert.rejects(
    model.doRerank({ query: data.query, documents: { type: 'text', values: texts }, topN: -1 }),
    (e: unknown) => e instanceof InputError && e.field === 'topN',
  );
});

test('examples/10-ai-sdk.ts runs and prints the ranking', { timeout: 120_000 }, async () => {
  const { stdout } = await run(process.execPath, ['--conditions=rankwise-source', '--import', 'tsx', join(ROOT, 'examples/10-ai-sdk.ts')], { cwd: ROOT });
  const [[index, score]] = await directRanking(texts);
  assert.match(stdout, new RegExp(`#1 \\(score ${score.toFixed(4)}\\) \\[was #${index}, ${data.documents[index].id}\\]`));
  assert.equal(stdout.match(/^#\d/gm)?.length, 3);
});
