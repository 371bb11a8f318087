import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPlatt, fitLogisticRegression, fitPlattScaling, reliabilityTable } from '../src/eval/calibration.js';

test('reliability table, ECE, log loss and the threshold shares match hand-computed values', { timeout: 10_000 }, () => {
  const r = reliabilityTable([0.1, 0.2, 0.8, 0.9], [0, 1, 1, 1], 2);
  assert.deepEqual(r.bins.map((b) => b.count), [2, 2]);
  assert.ok(Math.abs(r.bins[0].meanPredicted - 0.15) < 1e-12 && Math.abs(r.bins[0].observed - 0.5) < 1e-12);
  assert.ok(Math.abs(r.bins[1].meanPredicted - 0.85) < 1e-12 && r.bins[1].observed === 1);
  assert.ok(Math.abs(r.ece - 0.25) < 1e-12, `ece ${r.ece}`);
  const logLoss = -(Math.log(0.9) + Math.log(0.2) + Math.log(0.8) + Math.log(0.9)) / 4;
  assert.ok(Math.abs(r.logLoss - logLoss) < 1e-12);
  assert.ok(Math.abs(r.threshold.relevantAbove - 2 / 3) < 1e-12);
  assert.equal(r.threshold.nonRelevantBelow, 1);
  // A probability of exactly 1 falls in the last bin, not past it.
  assert.equal(reliabilityTable([1, 0], [1, 0], 4).bins[3].count, 1);
});

test('Platt scaling reaches the analytic optimum of the smoothed log loss', { timeout: 10_000 }, () => {
  // x = 1: three relevant, one not; x = -1: one relevant, three not. With Platt's smoothed targets (5/6, 1/6) the
  // mean target is 2/3 at x = 1 and 1/3 at x = -1, so the optimum is scale = ln 2, bias = 0.
  const logits = [1, 1, 1, 1, -1, -1, -1, -1];
  const labels = [1, 1, 1, 0, 1, 0, 0, 0];
  const fit = fitPlattScaling(logits, labels);
  assert.ok(Math.abs(fit.scale - Math.LN2) < 1e-8, `scale ${fit.scale}`);
  assert.ok(Math.abs(fit.bias) < 1e-8, `bias ${fit.bias}`);
  // Shifting every logit by 3 moves only the bias: scale ln 2, bias -3 ln 2.
  const shifted = fitPlattScaling(logits.map((x) => x + 3), labels);
  assert.ok(Math.abs(shifted.scale - Math.LN2) < 1e-8 && Math.abs(shifted.bias + 3 * Math.LN2) < 1e-7, JSON.stringify(shifted));
  assert.ok(Math.abs(applyPlatt(4, shifted) - 2 / 3) < 1e-8);
  // Separable data still gives finite parameters (the smoothed targets are never 0 or 1).
  const separable = fitPlattScaling([-2, -1, 1, 2], [0, 0, 1, 1]);
  assert.ok(Number.isFinite(separable.scale) && separable.scale > 0);
});

test('calibration inputs are checked with the field named', { timeout: 10_000 }, () => {
  assert.throws(() => fitPlattScaling([1, 2], [1]), /labels: expected one per logits/);
  assert.throws(() => fitPlattScaling([Number.NaN], [1]), /logits\[0\]: expected a finite number/);
  assert.throws(() => reliabilityTable([1.5], [1]), /probabilities\[0\]: expected a number from 0 to 1/);
  assert.throws(() => reliabilityTable([0.5], [2]), /labels\[0\]: expected a number from 0 to 1/);
});

test('logistic regression recovers the weights that generated soft targets exactly', { timeout: 10_000 }, () => {
  // When the targets are sigmoid(w . x + b) for every row, the log loss is smallest exactly at (w, b).
  const features: number[][] = [];
  for (let i = 0; i < 40; i++) features.push([Math.sin(i * 1.7) * 2, Math.cos(i * 0.9) + (i % 3) * 0.5]);
  const targets = features.map(([a, b]) => 1 / (1 + Math.exp(-(0.7 * a - 1.3 * b + 0.2))));
  const fit = fitLogisticRegression(features, targets);
  assert.ok(Math.abs(fit.weights[0] - 0.7) < 1e-6 && Math.abs(fit.weights[1] + 1.3) < 1e-6 && Math.abs(fit.bias - 0.2) < 1e-6, JSON.stringify(fit));
  // An L2 penalty shrinks the weights, never the bias's freedom to match the base rate.
  const ridge = fitLogisticRegression(features, targets, { l2: 1 });
  assert.ok(Math.hypot(...ridge.weights) < Math.hypot(...fit.weights));
  assert.throws(() => fitLogisticRegression([[1, 2], [1]], [1, 0]), /features\[1\]: expected 2 values/);
  assert.throws(() => fitLogisticRegression([[1]], [2]), /targets\[0\]: expected a number from 0 to 1/);
});

test('sample weights act as repeated rows', { timeout: 10_000 }, () => {
  const features = [[0], [1], [2], [3]];
  const targets = [0, 1, 0, 1];
  const weighted = fitLogisticRegression(features, targets, { sampleWeights: [1, 3, 1, 1] });
  const repeated = fitLogisticRegression([[0], [1], [1], [1], [2], [3]], [0, 1, 1, 1, 0, 1]);
  assert.ok(Math.abs(weighted.weights[0] - repeated.weights[0]) < 1e-8 && Math.abs(weighted.bias - repeated.bias) < 1e-8);
  assert.throws(() => fitLogisticRegression(features, targets, { sampleWeights: [1, 1] }), /sampleWeights: expected one per row/);
});
