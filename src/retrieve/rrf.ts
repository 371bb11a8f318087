/** Reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009): merges rankings without comparing their scores. */
import { InputError } from '../errors.js';

/** The constant from the original paper; larger values flatten the advantage of the very top ranks. */
export const DEFAULT_RRF_K = 60;

export interface FusedItem {
  id: string;
  /** Sum over the lists that contain the id of 1 / (k + rank), rank 1-based. */
  score: number;
  /** The best (smallest) 1-based rank the id had in any list. */
  bestRank: number;
}

/**
 * Fuses ranked lists of ids (best first) into one, best first. Ties are broken by the best single rank, then by id, so
 * the output never depends on map iteration order. An id repeated within one list counts only at its first position.
 */
export function reciprocalRankFusion(lists: ReadonlyArray<readonly string[]>, k: number = DEFAULT_RRF_K): FusedItem[] {
  if (!Number.isFinite(k) || k < 0) throw new InputError(`rrf k: expected a non-negative number, got ${k}`);
  const fused = new Map<string, FusedItem>();
  for (const list of lists) {
    const seen = new Set<string>();
    list.forEach((id, index) => {
      if (seen.has(id)) return;
      seen.add(id);
      const rank = index + 1;
      const item = fused.get(id);
      if (item) {
        item.score += 1 / (k + rank);
        item.bestRank = Math.min(item.bestRank, rank);
      } else {
        fused.set(id, { id, score: 1 / (k + rank), bestRank: rank });
      }
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score || a.bestRank - b.bestRank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
