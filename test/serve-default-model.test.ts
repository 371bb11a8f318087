/**
 * `rankwise serve` with the built-in model, which is not a cross-encoder (a hybrid scored through its own Ranker):
 * the Cohere and TEI routes report exactly the probabilities and order that `loadRanker('default')` gives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RERANKER, loadRanker } from '../src/rank/load-ranker.js';
import { scoresOf } from '../src/rank/results.js';
import { createServer } from '../src/serve/server.js';

const QUERY = 'how do I reset my router to factory settings';
const DOCUMENTS = [
  'Bananas are rich in potassium.',
  'Hold the reset button on the back of the router for ten seconds to restore its factory settings.',
  'A router forwards packets between networks.',
];

test('/v2/rerank and /rerank serve the built-in hybrid model with the scores and order of rank()', { timeout: 120_000 }, async () => {
  const server = await createServer({ model: DEFAULT_RERANKER, port: 0, threads: 1 });
  const ranker = await loadRanker(DEFAULT_RERANKER, { threads: 1 });
  try {
    const expected = await scoresOf(ranker, QUERY, DOCUMENTS);
    const order = [...expected.keys()].sort((a, b) => expected[b] - expected[a]);
    assert.equal(order[0], 1, 'the answer first');

    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(response.status, 200, await response.clone().text());
      return response.json();
    };
    const cohere = (await post('/v2/rerank', { model: 'default', query: QUERY, documents: DOCUMENTS })) as { results: Array<{ index: number; relevance_score: number }> };
    assert.deepEqual(cohere.results.map((r) => r.index), order);
    cohere.results.forEach((r) => assert.ok(Math.abs(r.relevance_score - expected[r.index]) < 1e-6, `${r.relevance_score} vs ${expected[r.index]}`));

    const tei = (await post('/rerank', { query: QUERY, texts: DOCUMENTS })) as Array<{ index: number; score: number }>;
    assert.deepEqual(tei.map((r) => r.index), order);
    tei.forEach((r) => assert.ok(Math.abs(r.score - expected[r.index]) < 1e-6));

    const health = await (await fetch(`${server.url}/health`)).json() as { status: string };
    assert.equal(health.status, 'ok');
    const empty = await fetch(`${server.url}/v2/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: ' ', documents: ['x'] }) });
    assert.equal(empty.status, 400);
  } finally {
    await ranker.dispose?.();
    await server.close();
  }
});
