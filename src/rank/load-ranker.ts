import type { BertModelLoadOptions } from '../models/bert-model.js';
import { BUILT_IN_ENCODERS, loadSentenceEncoder } from '../models/load-encoder.js';
import { resolveModel } from '../models/model-folder.js';
import { isUseLiteFolder } from '../models/use-lite/builtin.js';
import { CrossEncoder } from './cross-encoder.js';
import { EncoderRanker } from './encoder-ranker.js';
import type { Ranker } from './results.js';

export const BUILT_IN_MODELS = [...BUILT_IN_ENCODERS] as const;

/** The best reranker the project has offline; commands use it when the user names no model. */
export const DEFAULT_RERANKER = 'use-lite';

/**
 * One entry point for every backend: a built-in name, a converted USE Lite folder, or a model folder / hub id
 * whose config says whether it is a cross-encoder (a classification head) or a bi-encoder (a plain encoder).
 */
export async function loadRanker(model: string = DEFAULT_RERANKER, options: BertModelLoadOptions = {}): Promise<Ranker> {
  if ((BUILT_IN_ENCODERS as readonly string[]).includes(model) || (await isUseLiteFolder(model))) {
    return new EncoderRanker(await loadSentenceEncoder(model, options));
  }
  const folder = await resolveModel(model, options);
  if (folder.head === 'sequence-classification') return CrossEncoder.load(model, options);
  return new EncoderRanker(await loadSentenceEncoder(model, options));
}
