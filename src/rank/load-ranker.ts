import { join } from 'node:path';
import type { BertModelLoadOptions } from '../models/bert-model.js';
import { BUILT_IN_MODEL_NAMES } from '../models/built-in-model.js';
import { loadSentenceEncoder } from '../models/load-encoder.js';
import { locateModel, resolveModel } from '../models/model-folder.js';
import { CrossEncoder } from './cross-encoder.js';
import { EncoderRanker } from './encoder-ranker.js';
import { DEFAULT_LATE_INTERACTION_ENCODER, loadLateInteractionEncoder } from './late-interaction/encoder.js';
import { LateInteractionRanker } from './late-interaction/ranker.js';
import { encoderSignal, HybridRanker, loadBm25Signal, rankerSignal, readHybridConfig, type HybridSignal } from './hybrid-ranker.js';
import type { Ranker } from './results.js';

/** `late-interaction:<encoder>` ranks by late interaction over that encoder's token vectors (`late-interaction`: USE Lite). */
export const LATE_INTERACTION_PREFIX = 'late-interaction:';

/** Every name loadRanker accepts besides folders, hub ids and `late-interaction:<encoder>`. */
export const BUILT_IN_MODELS = BUILT_IN_MODEL_NAMES;

/**
 * The best reranker the project has offline, shipped in the package (models/default/, float16); the first load
 * makes it runnable in the model cache (src/models/shipped-model.ts), without libtorch or training.
 * `npm run build:default-reranker` rebuilds the shipped weights from the recipe.
 */
export const DEFAULT_RERANKER = 'default';

/**
 * One entry point for every backend: a built-in name, a model folder or a hub id, resolved once. A hybrid folder
 * runs its signals; otherwise the config's head decides: a classification head is a cross-encoder, a plain encoder
 * ranks by its family's sentence encoder. `late-interaction:<encoder>` ranks by MaxSim over the encoder's tokens.
 */
export async function loadRanker(model: string = DEFAULT_RERANKER, options: BertModelLoadOptions = {}): Promise<Ranker> {
  if (model === 'late-interaction' || model.startsWith(LATE_INTERACTION_PREFIX)) {
    const encoder = model.slice(LATE_INTERACTION_PREFIX.length) || DEFAULT_LATE_INTERACTION_ENCODER;
    return new LateInteractionRanker(await loadLateInteractionEncoder(encoder, options));
  }
  const located = await locateModel(model, options);
  const hybrid = await readHybridConfig(located.dir);
  if (hybrid) return loadHybridRanker(located.dir, hybrid, options);
  if (located.builtIn?.loadSentenceEncoder) return new EncoderRanker(await loadSentenceEncoder(located, options));
  const folder = await resolveModel(located, options);
  if (folder.head === 'sequence-classification') return CrossEncoder.fromFolder(folder, options);
  return new EncoderRanker(await loadSentenceEncoder(folder, options));
}

/** A hybrid model folder (`rankwise adapt` writes them): each signal loaded by the loader of its kind. */
async function loadHybridRanker(dir: string, config: NonNullable<Awaited<ReturnType<typeof readHybridConfig>>>, options: BertModelLoadOptions): Promise<Ranker> {
  const signals: Array<{ signal: HybridSignal; weight: number }> = [];
  try {
    for (const spec of config.signals) {
      const target = spec.path !== undefined ? join(dir, spec.path) : spec.model!;
      let signal: HybridSignal;
      if (spec.kind === 'bm25') signal = await loadBm25Signal(target);
      else if (spec.kind === 'encoder') signal = encoderSignal(await loadSentenceEncoder(target, options));
      else signal = rankerSignal(await loadRanker(target, options));
      signals.push({ signal, weight: spec.weight });
    }
  } catch (error) {
    for (const { signal } of signals) await signal.dispose();
    throw error;
  }
  return new HybridRanker(dir, signals, config.combination === 'logistic' ? { kind: 'logistic', bias: config.bias! } : { kind: 'z-score' });
}


