/** How much two rankers agree on the same documents, independent of the scale of their scores. */
import { InputError } from '../errors.js';

function checkScores(scores: readonly number[], name: string): void {
  scores.forEach((s, i) => {
    if (Number.isNaN(s)) throw new InputError(`${name}[${i}] is NaN`);
  });
}

/** Comparison rather than subtraction, so that two infinite scores count as a tie instead of NaN. */
function compare(x: number, y: number): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Kendall's tau-b between two score lists for the same items (item i scored a[i] by one model, b[i] by the other).
 * Tau-b rather than tau-a because rankers do produce ties (a clipped sigmoid, duplicate documents) and tau-a would
 * count a tie as disagreement. NaN when every item is tied in either list: there is no order to compare.
 * Quadratic in the number of items, which is fine for rerank lists of tens to a few thousand.
 */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new InputError(`kendallTau: lists have different lengths (${a.length} and ${b.length})`);
  if (a.length < 2) throw new InputError(`kendallTau: need at least 2 items, got ${a.length}`);
  checkScores(a, 'kendallTau: a');
  checkScores(b, 'kendallTau: b');
  const n = a.length;
  let concordant = 0;
  let discordant = 0;
  let tiedA = 0;
  let tiedB = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const da = compare(a[i], a[j]);
      const db = compare(b[i], b[j]);
      if (da === 0) tiedA++;
      if (db === 0) tiedB++;
      if (da === 0 || db === 0) continue;
      if (da === db) concordant++;
      else discordant++;
    }
  }
  const pairs = (n * (n - 1)) / 2;
  const denominator = Math.sqrt((pairs - tiedA) * (pairs - tiedB));
  return denominator === 0 ? NaN : (concordant - discordant) / denominator;
}

/**
 * Item indices, best (highest score) first. Equal scores keep input order, so the result is deterministic and matches
 * what a stable sort of ranked results gives.
 */
export function rankingFromScores(scores: readonly number[]): number[] {
  checkScores(scores, 'rankingFromScores: scores');
  return scores.map((_, i) => i).sort((i, j) => compare(scores[j], scores[i]) || i - j);
}

/** Share of the first k items of one ranking that are also among the first k of the other: |top_k(A) ∩ top_k(B)| / k. */
export function topKOverlap(rankA: readonly number[], rankB: readonly number[], k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new InputError(`topKOverlap: k must be a positive integer, got ${k}`);
  if (k > rankA.length || k > rankB.length) {
    throw new InputError(`topKOverlap: k = ${k} exceeds a ranking's length (${rankA.length} and ${rankB.length})`);
  }
  const topA = new Set(rankA.slice(0, k));
  const topB = new Set(rankB.slice(0, k));
  // Each list must name k distinct items, or an overlap of repeated indices would overstate agreement.
  if (topA.size !== k || topB.size !== k) throw new InputError('topKOverlap: a ranking repeats an index within its top k');
  let shared = 0;
  for (const item of topA) if (topB.has(item)) shared++;
  return shared / k;
}
