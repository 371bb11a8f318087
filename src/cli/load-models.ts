import type { BertModelLoadOptions } from '../models/bert-model.js';
import { DEFAULT_RERANKER, loadRanker } from '../rank/load-ranker.js';
import type { Ranker } from '../rank/results.js';
import { ensureDefaultReranker } from '../train/default-reranker.js';

/**
 * `loadRanker` for commands: the built-in reranker is trained on first use (progress on stderr unless `quiet`), so a
 * fresh machine needs no extra step before any command that reranks.
 */
export async function loadRankerForCommand(model: string = DEFAULT_RERANKER, options: BertModelLoadOptions & { quiet?: boolean } = {}): Promise<Ranker> {
  const { quiet, ...load } = options;
  await ensureBuiltIn(model, { quiet, threads: load.threads });
  return loadRanker(model, load);
}

/** Builds the built-in reranker first when `model` names it (a no-op once this machine has it, or for other models). */
export async function ensureBuiltIn(model: string, options: { quiet?: boolean; threads?: number } = {}): Promise<void> {
  if (model !== DEFAULT_RERANKER) return;
  const build = await ensureDefaultReranker({ showProgress: !options.quiet, threads: options.threads });
  if (build.built && !options.quiet) process.stderr.write(`built the default reranker in ${build.seconds.toFixed(0)} s: ${build.dir}\n`);
}
