import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  comparePairwise,
  evaluatePairwise,
  type PairwiseCase,
  type PairwiseCaseResult,
  type PairwiseResult,
} from '../src/eval/pairwise.js';
import { formatPairwiseComparison, formatPairwiseReport } from '../src/present/pairwise-report.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { fixtureModel } from './helpers/fixtures.js';

const BASE: Array<[string, string, string]> = [
  ['how do vaccines train the immune system', 'A vaccine shows the body a harmless antigen so it learns to make antibodies.', 'Vaccine vials must be kept between 2 and 8 degrees.'],
  ['what does a cross-encoder do', 'It reads the query and the document together in one pass.', 'Encoders convert electrical signals between formats.'],
  ['how long do cats sleep', 'Cats sleep twelve to sixteen hours a day.', 'Sleep hygiene matters for people with insomnia.'],
  ['reset a forgotten password', 'Click "forgot password" and follow the emailed link.', 'A strong password mixes letters, digits and symbols.'],
  ['boiling point of water at altitude', 'Water boils at lower temperatures as air pressure drops.', 'Water covers about 71 percent of the planet.'],
  ['why is the sky blue', 'Air scatters short blue wavelengths more than red ones.', 'Blue whales are the largest animals alive.'],
];

/**
 * Each base case twice, the second time with relevant and distractor swapped. Whatever the random weights, a model
 * that does not tie them passes exactly one of the two, so both outcomes are always present.
 */
function buildCases(): PairwiseCase[] {
  const cases: PairwiseCase[] = [];
  BASE.forEach(([query, relevant, distractor], i) => {
    const split = i % 3 === 0 ? 'unseen' : 'seen';
    cases.push({ query, relevant, distractor, split, topic: `t${i}` });
    cases.push({ query, relevant: distractor, distractor: relevant, split });
  });
  // The same text on both sides scores the same: a tie, which must count as a failure. No split: overall only.
  cases.push({ query: 'identical documents', relevant: 'The same sentence.', distractor: 'The same sentence.' });
  return cases;
}

let ceA: CrossEncoder;
let ceB: CrossEncoder;
const cases = buildCases();

before(async () => {
  ceA = await CrossEncoder.load(await fixtureModel({ kind: 'cross-encoder', seed: 2 }));
  ceB = await CrossEncoder.load(await fixtureModel({ kind: 'cross-encoder', seed: 9 }));
});

after(async () => {
  await ceA?.dispose();
  await ceB?.dispose();
});

/** Scores every (query, relevant) and (query, distractor) pair in one predict call, independently of the evaluator. */
async function directScores(ce: CrossEncoder): Promise<Array<{ rel: number; dis: number }>> {
  const scores = await ce.predict(cases.flatMap((c) => [[c.query, c.relevant] as const, [c.query, c.distractor] as const]));
  return cases.map((_, i) => ({ rel: scores[2 * i], dis: scores[2 * i + 1] }));
}

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-5, `${what}: ${a} vs ${b}`);

test('evaluatePairwise: scores match CrossEncoder.predict, ties fail, splits and accuracy are counted right', { timeout: 30_000 }, async () => {
  const progress: number[] = [];
  const result = await evaluatePairwise(ceA, cases, { onProgress: (n) => progress.push(n) });
  const direct = await directScores(ceA);
  assert.deepEqual(progress, cases.map((_, i) => i + 1));
  assert.equal(result.model, ceA.name);
  assert.equal(result.total, 13);

  result.cases.forEach((c, i) => {
    near(c.relevantScore, direct[i].rel, `case ${i} relevant`);
    near(c.distractorScore, direct[i].dis, `case ${i} distractor`);
    assert.equal(c.gap, c.relevantScore - c.distractorScore);
    assert.equal(c.passed, c.gap > 0);
    assert.equal(c.query, cases[i].query);
    assert.equal(c.split, cases[i].split);
    assert.equal(c.topic, cases[i].topic);
  });
  for (let i = 0; i < 12; i += 2) {
    near(result.cases[i].gap, -result.cases[i + 1].gap, `swapped pair ${i}`);
    assert.notEqual(result.cases[i].passed, result.cases[i + 1].passed, `exactly one of cases ${i} and ${i + 1} passes`);
  }
  const tie = result.cases[12];
  assert.equal(tie.gap, 0);
  assert.equal(tie.passed, false);

  // One of each swapped pair passes, the tie fails: 6 of 13, whatever the weights.
  assert.equal(result.passed, 6);
  assert.equal(result.accuracy, 6 / 13);
  // Base cases 0 and 3 are unseen (4 cases with their swaps), 1, 2, 4, 5 seen (8); each split holds whole swapped
  // pairs, so exactly half of it passes.
  assert.deepEqual(result.seen, { passed: 4, total: 8 });
  assert.deepEqual(result.unseen, { passed: 2, total: 4 });
  const directGaps = direct.map((d) => d.rel - d.dis);
  near(result.avgGap, directGaps.reduce((a, b) => a + b, 0) / directGaps.length, 'average gap');
});

test('comparePairwise finds the cases that a second model fixed and broke', { timeout: 30_000 }, async () => {
  const before = await evaluatePairwise(ceA, cases);
  const after = await evaluatePairwise(ceB, cases);
  const [directA, directB] = [await directScores(ceA), await directScores(ceB)];
  const comparison = comparePairwise(before, after);

  // Expected sets from the independent predict scores.
  const passes = (d: { rel: number; dis: number }) => d.rel - d.dis > 0;
  const expectFixed = cases.map((_, i) => i).filter((i) => !passes(directA[i]) && passes(directB[i]));
  const expectBroken = cases.map((_, i) => i).filter((i) => passes(directA[i]) && !passes(directB[i]));
  assert.deepEqual(
    comparison.fixed.map((c) => c.index),
    expectFixed,
  );
  assert.deepEqual(
    comparison.broken.map((c) => c.index),
    expectBroken,
  );
  // These seeds disagree on at least one base pair, so both lists are non-empty and the test can tell them apart.
  assert.ok(expectFixed.length > 0 && expectBroken.length > 0, `fixed ${expectFixed}, broken ${expectBroken}`);
  for (const c of comparison.fixed) {
    assert.equal(c.gapBefore, before.cases[c.index].gap);
    assert.equal(c.gapAfter, after.cases[c.index].gap);
    assert.ok(c.gapBefore <= 0 && c.gapAfter > 0);
  }
  // Both models pass exactly 6 of 13 here (see the previous test), so accuracy does not move however the cases shuffle.
  assert.equal(comparison.accuracyChange, 0);
  assert.equal(comparison.avgGapChange, after.avgGap - before.avgGap);
  assert.equal(expectFixed.length, expectBroken.length);
});

function handResult(model: string, gaps: number[], splits: Array<'seen' | 'unseen' | undefined>): PairwiseResult {
  const caseResults: PairwiseCaseResult[] = gaps.map((gap, i) => ({
    query: `query ${i}`,
    ...(splits[i] ? { split: splits[i] } : {}),
    relevantScore: 0.5 + gap / 2,
    distractorScore: 0.5 - gap / 2,
    gap,
    passed: gap > 0,
  }));
  const passed = caseResults.filter((c) => c.passed).length;
  const count = (s: string) => ({ passed: caseResults.filter((c) => c.split === s && c.passed).length, total: caseResults.filter((c) => c.split === s).length });
  return { model, accuracy: passed / gaps.length, passed, total: gaps.length, seen: count('seen'), unseen: count('unseen'), avgGap: gaps.reduce((a, b) => a + b, 0) / gaps.length, cases: caseResults };
}

test('comparePairwise on hand-made runs: fixed, broken, unchanged, and a mismatched case file', { timeout: 30_000 }, () => {
  const splits = ['seen', 'seen', 'unseen', 'unseen', undefined] as const;
  const before = handResult('base', [-0.2, 0.3, -0.1, 0.4, 0], [...splits]);
  const after = handResult('tuned', [0.1, 0.2, -0.3, -0.05, 0.6], [...splits]);
  const c = comparePairwise(before, after);
  // Case 0 fails -> passes (fixed); 1 passes both; 2 fails both; 3 passes -> fails (broken); 4 ties (fail) -> passes.
  assert.deepEqual(
    c.fixed.map((x) => x.index),
    [0, 4],
  );
  assert.deepEqual(c.broken, [{ index: 3, query: 'query 3', split: 'unseen', gapBefore: 0.4, gapAfter: -0.05 }]);
  // Before: 2 of 5 pass (1, 3). After: 3 of 5 (0, 1, 4).
  assert.equal(c.accuracyBefore, 0.4);
  assert.equal(c.accuracyAfter, 0.6);
  assert.ok(Math.abs(c.accuracyChange - 0.2) < 1e-12);
  assert.deepEqual(c.unseen, { before: { passed: 1, total: 2 }, after: { passed: 0, total: 2 } });

  const text = formatPairwiseComparison(before, after);
  assert.match(text, /Accuracy: 2\/5 \(40\.0%\) -> 3\/5 \(60\.0%\)  \(\+20\.0 points\)/);
  assert.match(text, /seen: {3}1\/2 \(50\.0%\) -> 2\/2 \(100\.0%\)/);
  assert.match(text, /unseen: 1\/2 \(50\.0%\) -> 0\/2 \(0\.0%\)  \(-50\.0 points\)/);
  assert.match(text, /Fixed \(2\): failed before, pass after\n {2}#1 \[seen\] gap -0\.2000 -> \+0\.1000  query 0\n {2}#5 \[-\] gap 0\.0000 -> \+0\.6000  query 4\n/);
  assert.match(text, /Broken \(1\): passed before, fail after\n {2}#4 \[unseen\] gap \+0\.4000 -> -0\.0500  query 3$/);

  assert.throws(() => comparePairwise(before, handResult('x', [1, 2], ['seen', 'seen'])), /different numbers of cases \(5 and 2\)/);
  const renamed = handResult('x', [0.1, 0.2, 0.3, 0.4, 0.5], [...splits]);
  renamed.cases[2].query = 'something else';
  assert.throws(() => comparePairwise(before, renamed), /case 3 differs between the runs/);
});

test('formatPairwiseReport: one row per case, then accuracy overall, per split, and the average gap', { timeout: 30_000 }, async () => {
  const result = await evaluatePairwise(ceA, cases);
  const text = formatPairwiseReport(result);
  const rows = text.split('\n').filter((l) => /^\s*\d+ /.test(l));
  assert.equal(rows.length, cases.length);
  rows.forEach((row, i) => {
    const c = result.cases[i];
    const cells = row.trim().split(/\s{2,}/);
    assert.equal(cells[0], String(i + 1));
    assert.equal(cells[1], c.split ?? '-');
    assert.equal(cells[2], c.passed ? 'PASS' : 'FAIL');
    assert.equal(Number(cells[3]), Number(c.relevantScore.toFixed(4)));
    assert.equal(Number(cells[4]), Number(c.distractorScore.toFixed(4)));
    // Untrained fixture models leave gaps around 1e-5, printed in exponent form with two significant digits.
    assertPrinted(cells[5], c.gap);
    assert.ok(row.endsWith(c.query));
  });
  assert.match(text, /Accuracy: 6\/13 \(46\.2%\)\n {2}seen: {3}4\/8 \(50\.0%\)\n {2}unseen: 2\/4 \(50\.0%\)\n/);
  const avg = /Average gap \(relevant - distractor\): (\S+)$/.exec(text);
  assert.ok(avg, text);
  assertPrinted(avg[1], result.avgGap);

  // A long query is cut to 50 characters with an ellipsis; a gap of 0.25 prints with four decimals.
  const long = handResult('m', [0.25], ['seen']);
  long.cases[0].query = 'word '.repeat(30);
  const row = formatPairwiseReport(long).split('\n').find((l) => l.startsWith('1 '));
  assert.ok(row !== undefined);
  assert.ok(row.endsWith(`${'word '.repeat(10).slice(0, 49)}…`), row);
  assert.match(row, /PASS {4}0\.6250 {4}0\.3750 {6}\+0\.2500 /);
});

/** A printed gap: its sign is right, and it is the value to the precision shown (4 decimals or 2 significant digits). */
function assertPrinted(printed: string, value: number): void {
  assert.equal(Math.sign(Number(printed)), Math.sign(value), `${printed} for ${value}`);
  const tolerance = /e/.test(printed) ? Math.abs(value) * 0.05 : 5e-5;
  assert.ok(Math.abs(Number(printed) - value) <= tolerance, `${printed} for ${value}`);
}

test('evaluatePairwise rejects bad cases before scoring any, naming the case and field', { timeout: 30_000 }, async () => {
  await assert.rejects(evaluatePairwise(ceA, []), /cases: expected at least one case/);
  const bad = [cases[0], { query: 'q', relevant: 'r' } as unknown as PairwiseCase];
  await assert.rejects(evaluatePairwise(ceA, bad), /cases\[1\]: field "distractor" must be a non-empty string/);
  const badSplit = [{ ...cases[0], split: 'train' } as unknown as PairwiseCase];
  await assert.rejects(evaluatePairwise(ceA, badSplit), /cases\[0\]: field "split" must be "seen" or "unseen", got "train"/);
});
