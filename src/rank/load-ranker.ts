import { BiEncoder } from '../models/bi-encoder.js';
import type { BertModelLoadOptions } from '../models/bert-model.js';
import { resolveModel } from '../models/model-folder.js';
import { UseLiteEncoder } from '../models/use-lite.js';
import { CrossEncoder } from './cross-encoder.js';
import { EncoderRanker } from './encoder-ranker.js';
import type { Ranker } from './results.js';

export const BUILT_IN_MODELS = ['use-lite'] as const;

/**
 * One entry point for every backend: `use-lite` (built in), or a model folder / hub id whose config says whether it
 * is a cross-encoder (a classification head) or a bi-encoder (a plain encoder).
 */
export async function loadRanker(model: string, options: BertModelLoadOptions = {}): Promise<Ranker> {
  if (model === 'use-lite') return new EncoderRanker(await UseLiteEncoder.load());
  const folder = await resolveModel(model, options);
  if (folder.head === 'sequence-classification') return CrossEncoder.load(model, options);
  return new EncoderRanker(await BiEncoder.load(model, options));
}
