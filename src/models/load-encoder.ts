import type { BiEncoderLoadOptions } from './bi-encoder.js';
import { BUILT_IN_MODEL_NAMES, builtInModel } from './built-in-model.js';
import { resolveModel, type LocatedModel, type ModelFolder } from './model-folder.js';
import type { SentenceEncoder } from './sentence-encoder.js';

/** The built-in names that load as sentence encoders (`use-lite`: our ONNX conversion; `use-lite-tfjs`: the package's own runtime). */
export const BUILT_IN_ENCODERS: readonly string[] = BUILT_IN_MODEL_NAMES.filter((name) => builtInModel(name)?.kind === 'encoder');

/** The best sentence encoder available offline: real pretrained weights (USE Lite), converted on first use. */
export const DEFAULT_ENCODER = 'use-lite';

/**
 * One entry point for sentence encoders: a built-in name, a model folder or a hub id, or a folder resolveModel
 * already resolved. The folder's family (by config.json's model_type) supplies the encoder.
 */
export async function loadSentenceEncoder(
  model: string | LocatedModel | ModelFolder = DEFAULT_ENCODER,
  options: BiEncoderLoadOptions = {},
): Promise<SentenceEncoder> {
  const runtime = typeof model === 'string' ? builtInModel(model)?.loadSentenceEncoder : model.builtIn?.loadSentenceEncoder;
  if (runtime) return runtime();
  const folder = typeof model !== 'string' && 'family' in model ? model : await resolveModel(model, options);
  return folder.family.loadSentenceEncoder(folder, options);
}
