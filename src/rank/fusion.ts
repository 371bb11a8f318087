/**
 * Fusing a reranker's scores with the first stage's, so that a weak reranker cannot undo much of a good first stage.
 *
 * Both methods work on one candidate list at a time (the documents of one query), which is the only place where a
 * BM25 score and a cross-encoder logit can be compared at all:
 * - `rrf`: reciprocal rank fusion (Cormack et al. 2009) of the two orders, scale-free;
 * - `linear`: each score list standardised to mean 0 and standard deviation 1 within the list, then mixed,
 *   `(1 - weight) * z(first stage) + weight * z(reranker)`. Unlike RRF it keeps how far apart the scores are.
 */
import { DEFAULT_RRF_K } from '../retrieve/rrf.js';
import { InputError } from '../errors.js';

export type FusionMethod = 'rrf' | 'linear';

export const FUSION_METHODS: readonly FusionMethod[] = ['rrf', 'linear'];

export interface FusionOptions {
  method: FusionMethod;
  /** Share of the reranker in [0, 1] (default 0.5): 0 keeps the first stage's order, 1 the reranker's. */
  weight?: number;
  /** RRF's constant (default 60). */
  rrfK?: number;
}

/** The default weight: each signal counts the same. */
export const DEFAULT_FUSION_WEIGHT = 0.5;

export function checkFusionOptions(options: FusionOptions, field = 'fuse'): Required<FusionOptions> {
  if (typeof options !== 'object' || options === null) throw new InputError(`${field}: expected {method: "rrf" | "linear", weight?}`);
  if (!FUSION_METHODS.includes(options.method)) {
    throw new InputError(`${field}.method: expected "rrf" or "linear", got ${JSON.stringify(options.method)}`);
  }
  const weight = options.weight ?? DEFAULT_FUSION_WEIGHT;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
    throw new InputError(`${field}.weight: expected a number from 0 to 1, got ${JSON.stringify(options.weight)}`);
  }
  const rrfK = options.rrfK ?? DEFAULT_RRF_K;
  if (typeof rrfK !== 'number' || !Number.isFinite(rrfK) || rrfK < 0) {
    throw new InputError(`${field}.rrfK: expected a non-negative number, got ${JSON.stringify(options.rrfK)}`);
  }
  return { method: options.method, weight, rrfK };
}

/**
 * Fused scores for one candidate list, higher is better. `firstStage[i]` and `reranker[i]` score the same candidate;
 * NaN is not allowed in either. With RRF, ties in a list share the better rank's position order by index (the
 * candidate given first wins), so the result never depends on sort stability.
 */
export function fuseScores(firstStage: ArrayLike<number>, reranker: ArrayLike<number>, options: FusionOptions): number[] {
  const { method, weight, rrfK } = checkFusionOptions(options);
  if (firstStage.length !== reranker.length) {
    throw new InputError(`fuse: the first stage scored ${firstStage.length} candidates and the reranker ${reranker.length}`);
  }
  checkFinite(firstStage, 'first-stage scores');
  checkFinite(reranker, 'reranker scores');
  const n = firstStage.length;
  if (method === 'linear') {
    const a = standardize(firstStage);
    const b = standardize(reranker);
    return Array.from({ length: n }, (_, i) => (1 - weight) * a[i] + weight * b[i]);
  }
  const rankA = ranksOf(firstStage);
  const rankB = ranksOf(reranker);
  // Scaled by 2 so that weight 0.5 gives the textbook sum 1/(k + r1) + 1/(k + r2).
  return Array.from({ length: n }, (_, i) => 2 * ((1 - weight) / (rrfK + rankA[i]) + weight / (rrfK + rankB[i])));
}

/** First-stage scores for candidates that came without any: their input order, best first. */
export function scoresFromOrder(count: number): number[] {
  return Array.from({ length: count }, (_, i) => count - i);
}

/** (x - mean) / standard deviation; all zeros when the values do not vary (they carry no order to fuse). */
export function standardize(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  if (n === 0) return out;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (values[i] - mean) ** 2;
  const sd = Math.sqrt(variance / n);
  if (!(sd > 1e-12 * Math.max(1, Math.abs(mean)))) return out;
  for (let i = 0; i < n; i++) out[i] = (values[i] - mean) / sd;
  return out;
}

/** 1-based rank of each position under descending scores, ties by position. */
function ranksOf(scores: ArrayLike<number>): Int32Array {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const ranks = new Int32Array(scores.length);
  order.forEach((index, position) => {
    ranks[index] = position + 1;
  });
  return ranks;
}

function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'number' || !Number.isFinite(values[i])) throw new InputError(`fuse: ${what}[${i}] is ${values[i]}, expected a finite number`);
  }
}
