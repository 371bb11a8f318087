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
  if (model === DEFAULT_RERANKER) {
    const build = await ensureDefaultReranker({ showProgress: !quiet, threads: load.threads });
    if (build.built && !quiet) process.stderr.write(`built the default reranker in ${build.seconds.toFixed(0)} s: ${build.dir}\n`);
  }
  return loadRanker(model, load);
}
