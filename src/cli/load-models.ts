import type { BertModelLoadOptions } from '../models/bert-model.js';
import { materializeShippedModel, shippedModelDir } from '../models/shipped-model.js';
import { DEFAULT_RERANKER, loadRanker } from '../rank/load-ranker.js';
import type { Ranker } from '../rank/results.js';

/**
 * `loadRanker` for commands: the built-in reranker ships in the package and is made runnable in the model cache on
 * first use (a few seconds, said on stderr unless `quiet`); no training, no libtorch.
 */
export async function loadRankerForCommand(model: string = DEFAULT_RERANKER, options: BertModelLoadOptions & { quiet?: boolean } = {}): Promise<Ranker> {
  const { quiet, ...load } = options;
  await ensureBuiltIn(model, { quiet, cacheDir: load.cacheDir });
  return loadRanker(model, load);
}

/** Makes the built-in reranker runnable first when `model` names it (a no-op once the cache has it, or for other models). */
export async function ensureBuiltIn(model: string, options: { quiet?: boolean; cacheDir?: string; threads?: number } = {}): Promise<void> {
  if (model !== DEFAULT_RERANKER) return;
  const made = await materializeShippedModel(shippedModelDir(DEFAULT_RERANKER), { cacheDir: options.cacheDir });
  if (made.created && !options.quiet) process.stderr.write(`prepared the built-in reranker in ${made.seconds.toFixed(1)} s: ${made.dir}\n`);
}
