import type { BertModelLoadOptions } from '../../models/bert-model.js';
import { loadRanker } from '../load-ranker.js';
import type { Ranker } from '../results.js';
import { DEFAULT_LATE_INTERACTION_ENCODER, loadLateInteractionEncoder } from './encoder.js';
import { LateInteractionRanker } from './ranker.js';

export const LATE_INTERACTION_PREFIX = 'late-interaction:';

/**
 * A reranker by name, or late interaction over an encoder written `late-interaction:<encoder>`
 * (`late-interaction` alone means the default encoder, USE Lite).
 */
export async function loadRankerOrLateInteraction(model: string, options: BertModelLoadOptions = {}): Promise<Ranker> {
  if (model === 'late-interaction' || model.startsWith(LATE_INTERACTION_PREFIX)) {
    const encoder = model.slice(LATE_INTERACTION_PREFIX.length) || DEFAULT_LATE_INTERACTION_ENCODER;
    return new LateInteractionRanker(await loadLateInteractionEncoder(encoder, options));
  }
  return loadRanker(model, options);
}
