import type { BertModelLoadOptions } from '../models/bert-model.js';
import { builtInModel } from '../models/built-in-model.js';
import { DEFAULT_RERANKER, loadRanker } from '../rank/load-ranker.js';
import type { Ranker } from '../rank/results.js';

type CommandLoadOptions = BertModelLoadOptions & { quiet?: boolean };

/** Says on stderr, unless `quiet`, that a built-in model was just made runnable (its first use on this machine). */
function reportPrepared(quiet: boolean | undefined): BertModelLoadOptions['onPrepared'] {
  if (quiet) return undefined;
  return (name, prepared) => process.stderr.write(`prepared the built-in model "${name}" in ${prepared.seconds.toFixed(1)} s: ${prepared.dir}\n`);
}

/** `loadRanker` for commands: the same resolution, with a line on stderr when a built-in is prepared. */
export function loadRankerForCommand(model: string = DEFAULT_RERANKER, options: CommandLoadOptions = {}): Promise<Ranker> {
  const { quiet, ...load } = options;
  return loadRanker(model, { ...load, onPrepared: reportPrepared(quiet) });
}

/** Makes a built-in model runnable ahead of a command that loads it later (a no-op once the cache has it, or for other models). */
export async function ensureBuiltIn(model: string, options: { quiet?: boolean; cacheDir?: string; threads?: number } = {}): Promise<void> {
  const builtIn = builtInModel(model);
  if (!builtIn) return;
  const prepared = await builtIn.prepare({ cacheDir: options.cacheDir });
  if (prepared.created) reportPrepared(options.quiet)?.(model, prepared);
}
