/**
 * Choosing the hit threshold from labelled pairs instead of by feel. Each pair is scored as the cache would score
 * it (verifier score, and a guard veto that blocks the hit whatever the score); every cut between two neighbouring
 * scores is tried, and the one that best serves the objective wins: maximum F1, or the most recall whose precision
 * reaches a target. The threshold returned is the midpoint of the gap it falls in, so small numeric drift in the
 * encoder does not move any pair across it.
 */
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import { contradiction, type Guard, type GuardVeto } from './guards.js';
import { CosineVerifier, type Verifier } from './verifier.js';
import { InputError } from '../errors.js';

export interface LabelledPair {
  a: string;
  b: string;
  /** True when b asks the same question as a (a cache hit would be right). */
  duplicate: boolean;
}

export interface ScoredPair extends LabelledPair {
  score: number;
  veto: GuardVeto | null;
}

export interface ThresholdPoint {
  threshold: number;
  /** Pairs predicted duplicate: score >= threshold and no veto. */
  predicted: number;
  truePositives: number;
  /** Wrong hits. */
  falsePositives: number;
  falseNegatives: number;
  /** NaN when nothing is predicted duplicate. */
  precision: number;
  recall: number;
  f1: number;
}

export type CalibrationObjective = { objective: 'f1' } | { objective: 'precision'; target: number };

export interface Calibration extends ThresholdPoint {
  objective: CalibrationObjective;
  /** "maximum F1" or "highest recall with precision >= 0.95", for printing. */
  description: string;
}

/** Checks one parsed JSONL record; errors name the field (the caller adds file:line). */
export function parseLabelledPair(value: Record<string, unknown>): LabelledPair {
  for (const field of ['a', 'b'] as const) {
    if (typeof value[field] !== 'string' || (value[field] as string).trim() === '') {
      throw new InputError(`"${field}": expected a non-empty string, got ${JSON.stringify(value[field])}`);
    }
  }
  if (typeof value.duplicate !== 'boolean') throw new InputError(`"duplicate": expected true or false, got ${JSON.stringify(value.duplicate)}`);
  return { a: value.a as string, b: value.b as string, duplicate: value.duplicate };
}

/** Scores each pair as a lookup would: the verifier on (a, b) and the guard's veto. */
export async function scorePairs(
  pairs: readonly LabelledPair[],
  encoder: SentenceEncoder,
  options: { verifier?: Verifier; guard?: Guard | null } = {},
): Promise<ScoredPair[]> {
  const verifier = options.verifier ?? new CosineVerifier();
  const guard = options.guard === undefined ? contradiction : options.guard;
  const texts = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const vectors = new Map((await encoder.encode(texts, { normalize: true })).map((v, i) => [texts[i], v]));
  const scored: ScoredPair[] = [];
  for (const pair of pairs) {
    const [score] = await verifier.score({ text: pair.a, vector: vectors.get(pair.a)! }, [{ text: pair.b, vector: vectors.get(pair.b)! }]);
    scored.push({ ...pair, score, veto: guard ? guard(pair.a, pair.b) : null });
  }
  return scored;
}

export function evaluateThreshold(scored: readonly ScoredPair[], threshold: number): ThresholdPoint {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const p of scored) {
    const hit = p.score >= threshold && p.veto === null;
    if (hit && p.duplicate) tp++;
    else if (hit) fp++;
    else if (p.duplicate) fn++;
  }
  const predicted = tp + fp;
  const positives = tp + fn;
  const precision = predicted > 0 ? tp / predicted : NaN;
  const recall = positives > 0 ? tp / positives : NaN;
  const f1 = tp > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0;
  return { threshold, predicted, truePositives: tp, falsePositives: fp, falseNegatives: fn, precision, recall, f1 };
}

export function sweepThresholds(scored: readonly ScoredPair[], thresholds: readonly number[]): ThresholdPoint[] {
  return thresholds.map((t) => evaluateThreshold(scored, t));
}

/** Thresholds that separate every pair of neighbouring scores (vetoed pairs can never hit, so they do not count). */
function cutPoints(scored: readonly ScoredPair[]): number[] {
  const scores = [...new Set(scored.filter((p) => p.veto === null).map((p) => p.score))].sort((a, b) => a - b);
  if (scores.length === 0) return [];
  const cuts = [scores[0] - 0.01];
  for (let i = 1; i < scores.length; i++) cuts.push((scores[i - 1] + scores[i]) / 2);
  cuts.push(scores[scores.length - 1] + 0.01);
  return cuts;
}

export function calibrateThreshold(scored: readonly ScoredPair[], objective: CalibrationObjective = { objective: 'f1' }): Calibration {
  if (!scored.some((p) => p.duplicate) || !scored.some((p) => !p.duplicate)) {
    throw new InputError('pairs: calibration needs both duplicate and non-duplicate pairs');
  }
  if (objective.objective === 'precision' && !(objective.target > 0 && objective.target <= 1)) {
    throw new InputError(`precision target: expected a number in (0, 1], got ${objective.target}`);
  }
  // Ties go to the higher threshold: fewer wrong hits for the same score.
  const points = sweepThresholds(scored, cutPoints(scored)).reverse();
  let best: ThresholdPoint | undefined;
  if (objective.objective === 'f1') {
    for (const p of points) if (!best || p.f1 > best.f1) best = p;
  } else {
    for (const p of points) {
      if (!(p.precision >= objective.target)) continue;
      if (!best || p.recall > best.recall) best = p;
    }
    if (!best) throw new InputError(`precision target: no threshold reaches precision ${objective.target} on these pairs`);
  }
  const description = objective.objective === 'f1' ? 'maximum F1' : `highest recall with precision >= ${objective.target}`;
  return { ...best!, objective, description };
}
