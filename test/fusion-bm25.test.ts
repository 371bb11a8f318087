import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sigmoid } from '../src/rank/cross-encoder.js';
import { fuseScores, standardize } from '../src/rank/fusion.js';
import { rankByScores } from '../src/rank/results.js';
import { analyze, Bm25Index, Bm25Scorer, bm25Statistics } from '../src/retrieve/bm25.js';

const close = (actual: number, expected: number, eps = 1e-9) => assert.ok(Math.abs(actual - expected) < eps, `expected ${expected}, got ${actual}`);

describe('fusion of a reranker with the first stage', { timeout: 10_000 }, () => {
  test('linear: standardised scores mixed by weight', () => {
    // First stage [3, 2, 1]: mean 2, sd sqrt(2/3) -> z = [1.2247, 0, -1.2247]. Reranker [0, 10, 20] -> z = [-1.2247, 0, 1.2247].
    const z = Math.sqrt(3 / 2);
    const fused = fuseScores([3, 2, 1], [0, 10, 20], { method: 'linear', weight: 0.25 });
    close(fused[0], 0.75 * z - 0.25 * z);
    close(fused[1], 0);
    close(fused[2], -0.75 * z + 0.25 * z);
    // Weight 0 is the first stage's order, weight 1 the reranker's.
    assert.deepEqual(fuseScores([3, 2, 1], [0, 10, 20], { method: 'linear', weight: 1 }).map((x) => Math.sign(x)), [-1, 0, 1]);
    // A constant list carries no order: all zeros, never NaN.
    assert.deepEqual([...standardize([5, 5, 5])], [0, 0, 0]);
  });

  test('rrf: 1/(60 + rank) from each list, ties by position', () => {
    const fused = fuseScores([0.9, 0.5, 0.5], [1, 3, 2], { method: 'rrf' });
    // First-stage ranks 1, 2, 3 (the tie goes to the earlier one); reranker ranks 3, 1, 2.
    close(fused[0], 1 / 61 + 1 / 63);
    close(fused[1], 1 / 62 + 1 / 61);
    close(fused[2], 1 / 63 + 1 / 62);
  });

  test('bad options name the field', () => {
    assert.throws(() => fuseScores([1], [1], { method: 'max' as 'rrf' }), /fuse\.method: expected "rrf" or "linear", got "max"/);
    assert.throws(() => fuseScores([1], [1], { method: 'linear', weight: 1.5 }), /fuse\.weight: expected a number from 0 to 1/);
    assert.throws(() => fuseScores([1, 2], [1], { method: 'rrf' }), /first stage scored 2 candidates and the reranker 1/);
    assert.throws(() => fuseScores([NaN], [1], { method: 'rrf' }), /first-stage scores\[0\] is NaN/);
  });

  test('rank options: fused scores order the results, the ranker\'s own score is kept', () => {
    const docs = ['a', 'b', 'c'];
    // The reranker alone would put c first; fused with a first stage that is sure of a, a stays on top.
    const ranked = rankByScores('q', docs, [0.2, 0.1, 0.3], 'm', { fuse: { method: 'linear', weight: 0.3, firstStageScores: [10, 0, 1] } });
    assert.equal(ranked.results[0].index, 0);
    assert.equal(ranked.results.find((r) => r.index === 2)!.rankerScore, 0.3);
    // Without first-stage scores the input order is the first stage.
    const byOrder = rankByScores('q', docs, [0, 0.5, 1], 'm', { fuse: { method: 'rrf' } });
    assert.equal(byOrder.results.length, 3);
    close(byOrder.results.find((r) => r.index === 0)!.score, 1 / 61 + 1 / 63);
  });
});

describe('BM25', { timeout: 10_000 }, () => {
  test('the analyser lower-cases, drops stop words and stems', () => {
    assert.deepEqual(analyze('The Running of the Routers, in 2024!'), ['run', 'router', '2024']);
  });

  test('scores equal the Okapi formula computed by hand', () => {
    const index = new Bm25Index([
      { id: 'd1', text: 'cat sat' },
      { id: 'd2', text: 'dog sat mat' },
    ]);
    // N = 2, average length 2.5; "cat": df 1, idf = ln(1 + 1.5 / 1.5) = ln 2.
    // d1: tf 1, length 2: norm = 0.9 * (1 - 0.4 + 0.4 * 2 / 2.5) = 0.828; score = ln2 * 1.9 / 1.828.
    const hits = index.search('cat', 10);
    assert.deepEqual(hits.map((h) => h.id), ['d1']);
    close(hits[0].score, (Math.log(2) * 1.9) / 1.828);
    // "sat" is in both: idf = ln(1 + 0.5 / 2.5); the shorter document wins.
    const both = index.search('sat', 10);
    assert.deepEqual(both.map((h) => h.id), ['d1', 'd2']);
    close(both[1].score, (Math.log(1.2) * 1.9) / (1 + 0.9 * (0.6 + (0.4 * 3) / 2.5)));
    // The scorer over the same statistics gives the index's scores for any text.
    const scorer = new Bm25Scorer(bm25Statistics(['cat sat', 'dog sat mat']));
    assert.deepEqual(scorer.score('cat', ['cat sat', 'dog sat mat']), [hits[0].score, 0]);
    // A term the collection never saw gets the IDF of a term in one document.
    close(scorer.idf('zebra'), Math.log(2));
  });
});

describe('fusion in the funnel and in /search', { timeout: 120_000 }, () => {
  test('a RankerStage with fuse orders by the fused score of its ranker and the previous stage', async () => {
    const { RankerStage } = await import('../src/pipeline/ranker-stage.js');
    const { loadRanker } = await import('../src/rank/load-ranker.js');
    const ranker = await loadRanker('use-lite');
    try {
      const candidates = [
        { id: 'a', text: 'The museum is closed on Mondays.', score: 100 },
        { id: 'b', text: 'Hold the reset button of the router for ten seconds to restore factory settings.', score: 1 },
        { id: 'c', text: 'Espresso is brewed by forcing hot water through coffee.', score: 0 },
      ];
      const alone = await new RankerStage(ranker, { k: 3 }).run('factory reset a router', candidates);
      assert.equal(alone.kept[0].id, 'b');
      // The first stage is very sure of "a" (z-score 1.41) and the fusion leans on it: "a" stays first.
      const fused = await new RankerStage(ranker, { k: 3, fuse: { method: 'linear', weight: 0.2 } }).run('factory reset a router', candidates);
      assert.equal(fused.kept[0].id, 'a');
    } finally {
      await ranker.dispose?.();
    }
  });

  test('SearchService: `fuse` reorders, reports fused_score, and is part of the cache key', async () => {
    const { SearchService } = await import('../src/serve/search-service.js');
    const { LanceDbRetriever } = await import('../src/retrieve/lancedb.js');
    const { scratchDir } = await import('./helpers/fixtures.js');
    const dir = await scratchDir();
    const index = await LanceDbRetriever.open(dir);
    await index.add([
      { id: 'r1', text: 'router router router reset reset: the router reset page of the router manual' },
      { id: 'r2', text: 'To restore factory settings, hold the reset button of the router for ten seconds.' },
      { id: 'r3', text: 'A router forwards packets between networks.' },
    ]);
    await index.close();
    const service = await SearchService.open({ indexDir: dir, cache: join(dir, 'cache.db') });
    // A real scorer that prefers r2 whatever BM25 says: the length of the text (r2 is the longest).
    const score = async (_query: string, texts: readonly string[]) => ({ scores: Float32Array.from(texts, (t) => t.length / 10), relevance: sigmoid });
    try {
      const plain = await service.search({ query: 'router reset', k: 3 }, score);
      assert.equal(plain.results[0].id, 'r2');
      assert.equal(plain.results[0].fused_score, undefined);
      const fused = await service.search({ query: 'router reset', k: 3, fuse: 'linear', fuse_weight: 0.1 }, score);
      assert.equal(fused.cache?.hit, false, 'an answer cached without fusion is not this request\'s answer');
      assert.equal(fused.results[0].id, 'r1', 'mostly BM25: the page that repeats the words wins');
      assert.equal(typeof fused.results[0].fused_score, 'number');
      await assert.rejects(service.search({ query: 'router reset', fuse: 'linear', fuse_weight: 3 }, score), /fuse\.weight: expected a number from 0 to 1/);
    } finally {
      await service.close();
    }
  });
});
