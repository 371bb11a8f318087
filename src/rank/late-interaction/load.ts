import { loadRanker } from '../load-ranker.js';

export { LATE_INTERACTION_PREFIX } from '../load-ranker.js';

/**
 * Kept for callers of the earlier API: loadRanker itself now accepts `late-interaction:<encoder>`
 * (`late-interaction` alone means the default encoder, USE Lite).
 */
export const loadRankerOrLateInteraction = loadRanker;
