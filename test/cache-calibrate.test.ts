import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { calibrateThreshold, evaluateThreshold, parseLabelledPair, scorePairs, type ScoredPair } from '../src/cache/calibrate.js';
import { DEFAULT_CACHE_THRESHOLD } from '../src/cache/semantic-cache.js';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import type { SentenceEncoder } from '../src/models/sentence-encoder.js';
import { readJsonLines } from '../src/util/jsonl.js';
import { ROOT } from './helpers/cli.js';

const pair = (score: number, duplicate: boolean, vetoed = false): ScoredPair => ({
  a: 'a',
  b: 'b',
  duplicate,
  score,
  veto: vetoed ? { rule: 'antonym', detail: 'x / y' } : null,
});

// Scores 0.9 dup, 0.8 dup, 0.7 not, 0.6 dup, 0.3 not; a vetoed non-duplicate at 0.95 can never hit.
const scored = [pair(0.9, true), pair(0.8, true), pair(0.7, false), pair(0.6, true), pair(0.3, false), pair(0.95, false, true)];

describe('cache threshold calibration (hand-computed)', { timeout: 120_000 }, () => {
  it('counts a threshold\'s hits, wrong hits and misses; vetoed pairs never hit', () => {
    // At 0.65: 0.9 and 0.8 are right hits, 0.7 a wrong hit, 0.6 a missed duplicate.
    const p = evaluateThreshold(scored, 0.65);
    assert.deepEqual([p.predicted, p.truePositives, p.falsePositives, p.falseNegatives], [3, 2, 1, 1]);
    assert.equal(p.precision, 2 / 3);
    assert.equal(p.recall, 2 / 3);
    assert.equal(p.f1, (2 * 2) / (2 * 2 + 1 + 1));
    assert.ok(Number.isNaN(evaluateThreshold(scored, 0.99).precision), 'nothing predicted: precision undefined');
  });

  it('maximum F1 takes the midpoint of the best gap: between 0.6 and 0.3, F1 6/7', () => {
    // Cuts: 0.85 -> F1 1/2, 0.75 -> 4/5, 0.65 -> 2/3, 0.45 -> 6/7, 0.29 -> 3/4.
    const c = calibrateThreshold(scored);
    assert.ok(Math.abs(c.threshold - 0.45) < 1e-12);
    assert.equal(c.precision, 3 / 4);
    assert.equal(c.recall, 1);
    assert.ok(Math.abs(c.f1 - 6 / 7) < 1e-12);
    assert.equal(c.description, 'maximum F1');
  });

  it('a precision target takes the most recall that reaches it: 0.75 (precision 1, recall 2/3)', () => {
    const c = calibrateThreshold(scored, { objective: 'precision', target: 0.9 });
    assert.ok(Math.abs(c.threshold - 0.75) < 1e-12);
    assert.equal(c.precision, 1);
    assert.equal(c.recall, 2 / 3);
    assert.match(c.description, /precision >= 0.9/);
  });

  it('refuses what it cannot calibrate', () => {
    assert.throws(() => calibrateThreshold([pair(0.5, true)]), /both duplicate and non-duplicate/);
    assert.throws(() => calibrateThreshold(scored, { objective: 'precision', target: 1.5 }), /precision target: expected a number in \(0, 1\]/);
    assert.throws(() => calibrateThreshold([pair(0.9, false), pair(0.1, true)], { objective: 'precision', target: 0.9 }), /no threshold reaches precision 0.9/);
  });

  it('checks labelled pairs field by field', () => {
    assert.deepEqual(parseLabelledPair({ a: 'x', b: 'y', duplicate: false }), { a: 'x', b: 'y', duplicate: false });
    assert.throws(() => parseLabelledPair({ a: 'x', b: '', duplicate: true }), /"b": expected a non-empty string, got ""/);
    assert.throws(() => parseLabelledPair({ a: 'x', b: 'y', duplicate: 'yes' }), /"duplicate": expected true or false, got "yes"/);
  });
});

describe('the default threshold on our labelled pairs (USE Lite)', { timeout: 120_000 }, () => {
  let encoder: SentenceEncoder;
  before(async () => {
    encoder = await loadSentenceEncoder('use-lite');
  });
  after(async () => {
    await encoder.dispose?.();
  });

  it('recalibrating datasets/cache/pairs.jsonl still yields DEFAULT_CACHE_THRESHOLD within 0.02', async () => {
    const file = join(ROOT, 'datasets/cache/pairs.jsonl');
    const pairs = (await readJsonLines(file, 'pairs')).map(({ value }) => parseLabelledPair(value));
    assert.ok(pairs.length >= 60);
    const result = await scorePairs(pairs, encoder);
    const c = calibrateThreshold(result, { objective: 'precision', target: 0.75 });
    assert.ok(Math.abs(c.threshold - DEFAULT_CACHE_THRESHOLD) <= 0.02, `calibrated ${c.threshold}, constant ${DEFAULT_CACHE_THRESHOLD}`);
    assert.ok(c.precision >= 0.75);
    // The guard, not the threshold, stops the opposites: every guardable near miss in the file is vetoed.
    const opposites = result.filter((p) => !p.duplicate && /disable|turn off|unlock|unsubscribe|decline|decrease/.test(p.b));
    assert.ok(opposites.length >= 5);
    for (const p of opposites) assert.notEqual(p.veto, null, `${p.a} / ${p.b}`);
  });
});
