/**
 * Probability calibration of a scorer's raw logits: Platt scaling (sigmoid(scale * logit + bias), fitted by
 * maximum likelihood) and the reliability table that shows how far predicted probabilities are from observed rates.
 *
 * Why Platt and not temperature alone: a temperature only stretches the logits around 0, so it cannot move the point
 * where a relevant document and an off-topic one part (a model trained on 1 positive per 4 negatives puts it low);
 * the bias does. Both fold into a linear classifier head, so a calibrated model costs nothing at inference.
 */

import { sigmoid } from '../util/math.js';
import { InputError } from '../errors.js';

export interface PlattScaling {
  scale: number;
  bias: number;
}

export interface ReliabilityBin {
  /** Lower and upper edge of the predicted-probability bin; the last bin includes 1. */
  from: number;
  to: number;
  count: number;
  /** Mean predicted probability of the pairs in the bin (NaN when empty). */
  meanPredicted: number;
  /** Share of relevant pairs in the bin (NaN when empty). */
  observed: number;
}

export interface Reliability {
  bins: ReliabilityBin[];
  /** Expected calibration error: the count-weighted mean |meanPredicted - observed|. */
  ece: number;
  /** Mean negative log-likelihood (log loss) of the labels. */
  logLoss: number;
  /** Share of relevant pairs scoring >= threshold, and of non-relevant pairs scoring < threshold. */
  threshold: { at: number; relevantAbove: number; nonRelevantBelow: number };
}


function checkInputs(values: readonly number[], labels: readonly number[], name: string): void {
  if (values.length !== labels.length) throw new InputError(`labels: expected one per ${name} (${values.length}), got ${labels.length}`);
  if (values.length === 0) throw new InputError(`${name}: expected at least one value`);
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new InputError(`${name}[${i}]: expected a finite number, got ${v}`);
  });
  labels.forEach((l, i) => {
    if (!(l >= 0 && l <= 1)) throw new InputError(`labels[${i}]: expected a number from 0 to 1, got ${l}`);
  });
}

/**
 * Fits sigmoid(scale * logit + bias) to the labels by maximum likelihood, with Platt's smoothed targets
 * ((n+ + 1) / (n+ + 2) and 1 / (n- + 2)) so that separable data still gives a finite scale.
 */
export function fitPlattScaling(logits: readonly number[], labels: readonly number[]): PlattScaling {
  checkInputs(logits, labels, 'logits');
  const positives = labels.reduce((a, b) => a + b, 0);
  const negatives = labels.length - positives;
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (negatives + 2);
  const fit = fitLogisticRegression(
    logits.map((x) => [x]),
    labels.map((l) => l * hi + (1 - l) * lo),
  );
  return { scale: fit.weights[0], bias: fit.bias };
}

export interface LogisticModel {
  weights: number[];
  bias: number;
}

/**
 * Logistic regression, sigmoid(bias + weights . x), fitted to targets in [0, 1] by Newton's method on the mean log
 * loss plus `l2` / 2 * |weights|^2 (the bias is not penalised). Few features (a handful of signals), many rows.
 * `sampleWeights` weigh rows (for example to give relevant and non-relevant pairs equal total weight).
 */
export function fitLogisticRegression(
  features: readonly (readonly number[])[],
  targets: readonly number[],
  options: { l2?: number; sampleWeights?: readonly number[] } = {},
): LogisticModel {
  if (features.length === 0) throw new InputError('features: expected at least one row');
  if (targets.length !== features.length) throw new InputError(`targets: expected one per row of features (${features.length}), got ${targets.length}`);
  const d = features[0].length;
  features.forEach((row, i) => {
    if (row.length !== d) throw new InputError(`features[${i}]: expected ${d} values like the first row, got ${row.length}`);
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new InputError(`features[${i}][${j}]: expected a finite number, got ${v}`);
    });
  });
  targets.forEach((t, i) => {
    if (!(t >= 0 && t <= 1)) throw new InputError(`targets[${i}]: expected a number from 0 to 1, got ${t}`);
  });
  const l2 = options.l2 ?? 0;
  const n = features.length;
  const sampleWeights = options.sampleWeights ?? new Array<number>(n).fill(1);
  if (sampleWeights.length !== n) throw new InputError(`sampleWeights: expected one per row of features (${n}), got ${sampleWeights.length}`);
  sampleWeights.forEach((w, i) => {
    if (!(w >= 0) || !Number.isFinite(w)) throw new InputError(`sampleWeights[${i}]: expected a finite number >= 0, got ${w}`);
  });
  const totalWeight = sampleWeights.reduce((a, b) => a + b, 0);
  if (!(totalWeight > 0)) throw new InputError('sampleWeights: expected at least one positive weight');
  // Parameters: d weights then the bias, which sees a constant feature 1.
  let theta = new Array(d + 1).fill(0);
  const row = (i: number) => [...features[i], 1];
  const loss = (t: number[]) => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const z = dotProduct(row(i), t);
      sum += sampleWeights[i] * (Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - targets[i] * z);
    }
    return sum / totalWeight + (l2 / 2) * t.slice(0, d).reduce((a, w) => a + w * w, 0);
  };
  for (let iteration = 0; iteration < 100; iteration++) {
    const gradient = new Array(d + 1).fill(0);
    const hessian = Array.from({ length: d + 1 }, () => new Array(d + 1).fill(0));
    for (let i = 0; i < n; i++) {
      const x = row(i);
      const p = sigmoid(dotProduct(x, theta));
      const share = sampleWeights[i] / totalWeight;
      const w = Math.max(p * (1 - p), 1e-12) * share;
      for (let a = 0; a <= d; a++) {
        gradient[a] += (p - targets[i]) * x[a] * share;
        for (let b = 0; b <= d; b++) hessian[a][b] += w * x[a] * x[b];
      }
    }
    for (let a = 0; a <= d; a++) {
      if (a < d) gradient[a] += l2 * theta[a];
      // The ridge keeps the Hessian invertible when a feature is constant.
      hessian[a][a] += (a < d ? l2 : 0) + 1e-10;
    }
    const step = solveLinear(hessian, gradient);
    // Halve the Newton step until the loss does not grow (plain Newton can overshoot far from the optimum).
    const before = loss(theta);
    let scale = 1;
    while (scale > 1e-6 && loss(theta.map((t, a) => t - scale * step[a])) > before) scale /= 2;
    theta = theta.map((t, a) => t - scale * step[a]);
    if (step.every((s) => Math.abs(scale * s) < 1e-10)) break;
  }
  return { weights: theta.slice(0, d), bias: theta[d] };
}

function dotProduct(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Gaussian elimination with partial pivoting on a small dense system. */
function solveLinear(matrix: number[][], vector: number[]): number[] {
  const m = matrix.map((r, i) => [...r, vector[i]]);
  const size = vector.length;
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let r = col + 1; r < size; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < size; r++) {
      const f = m[r][col] / m[col][col];
      for (let c = col; c <= size; c++) m[r][c] -= f * m[col][c];
    }
  }
  const x = new Array(size).fill(0);
  for (let r = size - 1; r >= 0; r--) {
    let s = m[r][size];
    for (let c = r + 1; c < size; c++) s -= m[r][c] * x[c];
    x[r] = s / m[r][r];
  }
  return x;
}

/** The reliability table of probabilities against labels in `bins` equal-width bins, with ECE and log loss. */
export function reliabilityTable(probabilities: readonly number[], labels: readonly number[], bins = 10, threshold = 0.5): Reliability {
  checkInputs(probabilities, labels, 'probabilities');
  if (!Number.isInteger(bins) || bins < 1) throw new InputError(`bins: expected a positive integer, got ${bins}`);
  probabilities.forEach((p, i) => {
    if (p < 0 || p > 1) throw new InputError(`probabilities[${i}]: expected a number from 0 to 1, got ${p}`);
  });
  const rows = Array.from({ length: bins }, (_, b) => ({ from: b / bins, to: (b + 1) / bins, count: 0, sumP: 0, sumY: 0 }));
  let logLoss = 0;
  let relevant = 0, relevantAbove = 0, nonRelevant = 0, nonRelevantBelow = 0;
  probabilities.forEach((p, i) => {
    const row = rows[Math.min(bins - 1, Math.floor(p * bins))];
    row.count++;
    row.sumP += p;
    row.sumY += labels[i];
    const clipped = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
    logLoss -= labels[i] * Math.log(clipped) + (1 - labels[i]) * Math.log(1 - clipped);
    if (labels[i] >= 0.5) {
      relevant++;
      if (p >= threshold) relevantAbove++;
    } else {
      nonRelevant++;
      if (p < threshold) nonRelevantBelow++;
    }
  });
  const n = probabilities.length;
  const table = rows.map(({ from, to, count, sumP, sumY }) => ({
    from,
    to,
    count,
    meanPredicted: count ? sumP / count : NaN,
    observed: count ? sumY / count : NaN,
  }));
  const ece = table.reduce((sum, r) => (r.count ? sum + (r.count / n) * Math.abs(r.meanPredicted - r.observed) : sum), 0);
  return {
    bins: table,
    ece,
    logLoss: logLoss / n,
    threshold: { at: threshold, relevantAbove: relevant ? relevantAbove / relevant : NaN, nonRelevantBelow: nonRelevant ? nonRelevantBelow / nonRelevant : NaN },
  };
}

export function applyPlatt(logit: number, { scale, bias }: PlattScaling): number {
  return sigmoid(scale * logit + bias);
}
