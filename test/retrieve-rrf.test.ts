import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reciprocalRankFusion } from '../src/retrieve/rrf.js';

test('RRF sums 1/(k + rank) over lists with 1-based ranks (hand-computed, k = 60)', { timeout: 30_000 }, () => {
  const fused = reciprocalRankFusion([
    ['a', 'b', 'c'],
    ['c', 'a', 'd'],
  ]);
  const expected = [
    { id: 'a', score: 1 / 61 + 1 / 62, bestRank: 1 }, // 0.0325224
    { id: 'c', score: 1 / 63 + 1 / 61, bestRank: 1 }, // 0.0322664
    { id: 'b', score: 1 / 62, bestRank: 2 }, // 0.0161290
    { id: 'd', score: 1 / 63, bestRank: 3 }, // 0.0158730
  ];
  assert.deepEqual(fused.map((f) => f.id), expected.map((e) => e.id));
  fused.forEach((f, i) => {
    assert.ok(Math.abs(f.score - expected[i].score) < 1e-15, `${f.id}: ${f.score} vs ${expected[i].score}`);
    assert.equal(f.bestRank, expected[i].bestRank);
  });
  assert.ok(Math.abs(fused[0].score - 0.0325224) < 1e-7);
});

test('RRF with k = 0 is the sum of reciprocal ranks; k changes the order when lists disagree', { timeout: 30_000 }, () => {
  const lists = [
    ['x', 'y', 'z'],
    ['z', 'w', 'y'],
  ];
  // k = 0: x = 1, y = 1/2 + 1/3 = 0.8333, z = 1/3 + 1 = 1.3333, w = 1/2.
  const zero = reciprocalRankFusion(lists, 0);
  assert.deepEqual(zero.map((f) => [f.id, Number(f.score.toFixed(4))]), [['z', 1.3333], ['x', 1], ['y', 0.8333], ['w', 0.5]]);
  // k = 60: z = 1/63 + 1/61 = 0.032266 beats x = 1/61 = 0.016393; y = 1/62 + 1/63 = 0.032002 beats x too.
  const sixty = reciprocalRankFusion(lists, 60);
  assert.deepEqual(sixty.map((f) => f.id), ['z', 'y', 'x', 'w']);
});

test('RRF breaks ties by best single rank, then by id; a repeated id counts once per list', { timeout: 30_000 }, () => {
  assert.deepEqual(reciprocalRankFusion([['q'], ['p']]).map((f) => f.id), ['p', 'q']);
  // a and b both score 1/61 + 1/62 and both have best rank 1: the id decides.
  const tie = reciprocalRankFusion([['b', 'a'], ['a', 'b']]);
  assert.equal(tie[0].score, tie[1].score);
  assert.deepEqual(tie.map((f) => f.id), ['a', 'b']);
  const repeated = reciprocalRankFusion([['a', 'a', 'b']]);
  assert.equal(repeated[0].score, 1 / 61);
  assert.equal(repeated[1].score, 1 / 63, 'b keeps its position in the list (3rd)');
});

test('RRF rejects a negative or non-finite k', { timeout: 30_000 }, () => {
  assert.throws(() => reciprocalRankFusion([['a']], -1), /rrf k: expected a non-negative number, got -1/);
  assert.throws(() => reciprocalRankFusion([['a']], NaN), /rrf k/);
});
