import { join } from 'node:path';
import type { BertModelLoadOptions } from '../models/bert-model.js';
import { builtInModelFolder } from '../models/shipped-model.js';
import { BUILT_IN_ENCODERS, loadSentenceEncoder } from '../models/load-encoder.js';
import { resolveModel } from '../models/model-folder.js';
import { useLiteHead } from '../models/use-lite/builtin.js';
import { CrossEncoder } from './cross-encoder.js';
import { EncoderRanker } from './encoder-ranker.js';
import { encoderSignal, HybridRanker, loadBm25Signal, rankerSignal, readHybridConfig, type HybridSignal } from './hybrid-ranker.js';
import type { Ranker } from './results.js';

export const BUILT_IN_MODELS = [...BUILT_IN_ENCODERS] as const;

/**
 * The best reranker the project has offline: a cross-encoder on the pretrained USE Lite backbone, fine-tuned by our
 * trainer. Its weights ship in the package (models/default/, float16); the first load makes them runnable in the
 * model cache (src/models/shipped-model.ts), without libtorch or training. `npm run build:default-reranker` rebuilds
 * the shipped weights from the recipe.
 */
export const DEFAULT_RERANKER = 'default';
const DEFAULT_RERANKER_NAME = 'default (USE Lite cross-encoder)';

/**
 * One entry point for every backend: a built-in name, a converted USE Lite folder, or a model folder / hub id
 * whose config says whether it is a cross-encoder (a classification head) or a bi-encoder (a plain encoder).
 */
export async function loadRanker(model: string = DEFAULT_RERANKER, options: BertModelLoadOptions = {}): Promise<Ranker> {
  if (model === DEFAULT_RERANKER) {
    const dir = await builtInModelFolder(DEFAULT_RERANKER, { cacheDir: options.cacheDir });
    const hybrid = await readHybridConfig(dir);
    if (hybrid) return loadHybridRanker(dir, hybrid, options);
    return CrossEncoder.load(dir, { ...options, name: DEFAULT_RERANKER_NAME });
  }
  const hybrid = await readHybridConfig(model);
  if (hybrid) return loadHybridRanker(model, hybrid, options);
  if ((BUILT_IN_ENCODERS as readonly string[]).includes(model) || (await useLiteHead(model)) === 'none') {
    return new EncoderRanker(await loadSentenceEncoder(model, options));
  }
  const folder = await resolveModel(model, options);
  if (folder.head === 'sequence-classification') return CrossEncoder.load(model, options);
  return new EncoderRanker(await loadSentenceEncoder(model, options));
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


