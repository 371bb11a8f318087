import type { RankedResults } from '../rank/results.js';
import { ellipsis } from './text.js';

/** The source article's layout: `#1 (score 8.0912) [was #0] text…`. */
export function formatRanking(ranked: RankedResults, documents: readonly string[], width = 90, mark?: (index: number) => string): string {
  return ranked.results
    .map((r) => `#${r.rank} (score ${r.score.toFixed(4)}) [was #${r.index}] ${ellipsis(documents[r.index], width)}${mark ? mark(r.index) : ''}`)
    .join('\n');
}
