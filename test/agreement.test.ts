import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kendallTau, rankingFromScores, topKOverlap } from '../src/eval/agreement.js';

const close = (actual: number, expected: number, eps = 1e-12) =>
  assert.ok(Math.abs(actual - expected) < eps, `expected ${expected}, got ${actual}`);

test('kendallTau: one swapped pair out of six', { timeout: 30_000 }, () => {
  // a = [1,2,3,4], b = [1,3,2,4]. Pairs (i,j): (0,1) C, (0,2) C, (0,3) C, (1,2) D (a rises 2->3, b falls 3->2),
  // (1,3) C, (2,3) C. No ties: tau = (5 - 1) / 6 = 2/3.
  close(kendallTau([1, 2, 3, 4], [1, 3, 2, 4]), 2 / 3);
});

test('kendallTau: identical order is 1 and a perfectly reversed order is -1, whatever the scale', { timeout: 30_000 }, () => {
  // Every one of the 10 pairs is concordant (resp. discordant): (10 - 0) / 10 and (0 - 10) / 10.
  assert.equal(kendallTau([1, 2, 3, 4, 5], [10, 20, 30, 40, 50]), 1);
  assert.equal(kendallTau([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]), -1);
  assert.equal(kendallTau([0.9, 0.1, 0.5], [-1, -30, -2]), 1);
});

test('kendallTau: tau-b with a tie in each list', { timeout: 30_000 }, () => {
  // a = [1,2,2,3], b = [1,2,3,3]; n0 = 6 pairs.
  // (0,1) C, (0,2) C, (0,3) C, (1,2) tied in a only, (1,3) C, (2,3) tied in b only.
  // nc = 4, nd = 0, n1 = 1 (ties in a), n2 = 1 (ties in b): tau_b = 4 / sqrt((6-1)(6-1)) = 4/5.
  // (tau-a would give 4/6: the ties would count against agreement.)
  close(kendallTau([1, 2, 2, 3], [1, 2, 3, 3]), 0.8);
});

test('kendallTau: a pair tied in both lists, plus discordant pairs', { timeout: 30_000 }, () => {
  // a = [1,1,2,3], b = [2,2,1,3].
  // (0,1) tied in both, (0,2) D (a 1<2, b 2>1), (0,3) C, (1,2) D, (1,3) C, (2,3) C.
  // nc = 3, nd = 2, n1 = 1, n2 = 1: tau_b = 1 / sqrt(5 * 5) = 0.2.
  close(kendallTau([1, 1, 2, 3], [2, 2, 1, 3]), 0.2);
});

test('kendallTau: five items with ties on different pairs (agrees with scipy.stats.kendalltau)', { timeout: 30_000 }, () => {
  // a = [0.9,0.5,0.5,0.1,0.3], b = [3,1,2,0,2]; n0 = 10.
  // C: (0,1) (0,2) (0,3) (0,4) (1,3) (2,3) (3,4) = 7; D: (1,4) (a .5>.3, b 1<2) = 1;
  // tied in a: (1,2); tied in b: (2,4). tau_b = 6 / sqrt(9 * 9) = 2/3. scipy 1.17 prints 0.6666666666666666.
  close(kendallTau([0.9, 0.5, 0.5, 0.1, 0.3], [3, 1, 2, 0, 2]), 2 / 3);
});

test('kendallTau: undefined (NaN) when one list has no order at all; infinite scores tie with each other', { timeout: 30_000 }, () => {
  assert.ok(Number.isNaN(kendallTau([1, 1, 1], [1, 2, 3])));
  // [inf, inf, 0] vs [2, 2, 1]: (0,1) tied in both, (0,2) C, (1,2) C: 2 / sqrt(2 * 2) = 1.
  assert.equal(kendallTau([Infinity, Infinity, 0], [2, 2, 1]), 1);
});

test('kendallTau: different lengths, fewer than two items and NaN scores are errors', { timeout: 30_000 }, () => {
  assert.throws(() => kendallTau([1, 2, 3], [1, 2]), /different lengths \(3 and 2\)/);
  assert.throws(() => kendallTau([1], [1]), /at least 2 items/);
  assert.throws(() => kendallTau([], []), /at least 2 items/);
  assert.throws(() => kendallTau([1, NaN], [1, 2]), /a\[1\] is NaN/);
});

test('rankingFromScores: best first, ties keep input order', { timeout: 30_000 }, () => {
  // Scores 0.2, 0.9, 0.5, 0.9, -1: the two 0.9s (indices 1 and 3) lead in input order, then 0.5, 0.2, -1.
  assert.deepEqual(rankingFromScores([0.2, 0.9, 0.5, 0.9, -1]), [1, 3, 2, 0, 4]);
  assert.deepEqual(rankingFromScores([3, 3, 3]), [0, 1, 2]);
  assert.deepEqual(rankingFromScores([]), []);
  assert.deepEqual(rankingFromScores([-Infinity, 0, Infinity]), [2, 1, 0]);
});

test('topKOverlap: shared members of the two top-k sets over k', { timeout: 30_000 }, () => {
  const a = [4, 1, 0, 2, 3];
  const b = [1, 3, 4, 0, 2];
  // top1: {4} vs {1} -> 0/1. top2: {4,1} vs {1,3} -> {1} = 1/2. top3: {4,1,0} vs {1,3,4} -> {4,1} = 2/3.
  // top5: every item on both sides -> 1.
  assert.equal(topKOverlap(a, b, 1), 0);
  assert.equal(topKOverlap(a, b, 2), 0.5);
  close(topKOverlap(a, b, 3), 2 / 3);
  assert.equal(topKOverlap(a, b, 5), 1);
  // A reversed ranking of 6 shares nothing in its top 3: {0,1,2} vs {5,4,3}.
  assert.equal(topKOverlap([0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], 3), 0);
});

test('topKOverlap: k must be a positive integer within both rankings, without repeats', { timeout: 30_000 }, () => {
  assert.throws(() => topKOverlap([0, 1], [1, 0], 0), /positive integer/);
  assert.throws(() => topKOverlap([0, 1], [1, 0], 1.5), /positive integer/);
  assert.throws(() => topKOverlap([0, 1, 2], [1, 0], 3), /exceeds/);
  assert.throws(() => topKOverlap([0, 0, 1], [0, 1, 2], 2), /repeats an index/);
});

test('the helpers compose: overlap of score-derived rankings', { timeout: 30_000 }, () => {
  // Model A ranks [2,0,1,3]; model B ranks [2,1,0,3]. top2 {2,0} vs {2,1}: 1/2.
  const rankA = rankingFromScores([0.7, 0.1, 0.9, 0.05]);
  const rankB = rankingFromScores([0.3, 0.6, 0.8, 0.2]);
  assert.deepEqual(rankA, [2, 0, 1, 3]);
  assert.deepEqual(rankB, [2, 1, 0, 3]);
  assert.equal(topKOverlap(rankA, rankB, 2), 0.5);
});
