import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelHead } from './config.js';
import { writeFolderAtomic } from '../util/atomic-write.js';
import { exists } from '../util/fs.js';
import type { FamilyConfig } from './family.js';
import { familyFor } from './families.js';
import { writeSafetensorsFile } from './safetensors.js';
import type { TensorMap } from './tensors.js';
import { InputError } from '../errors.js';

/** Files a Hugging Face tokenizer may consist of; whichever the source folder has are copied along. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

export interface ModelFolderContents {
  /** The config.json to write; its model_type selects the family's weight and graph writers. */
  config: FamilyConfig;
  head: ModelHead;
  weights: TensorMap;
  /** Writes the tokenizer files into the staging folder (for example, copies them from the base model). */
  writeTokenizer: (dir: string) => Promise<void>;
  /** Pooling recorded for sentence-transformers (bi-encoders only). */
  pooling?: 'mean' | 'cls';
  /** Replace an existing, non-empty folder. */
  overwrite?: boolean;
}

/**
 * Writes a complete model folder: config.json, tokenizer files, model.safetensors with Hugging Face names,
 * onnx/model.onnx and onnx/model_quantized.onnx, and for bi-encoders the sentence-transformers module files. The
 * folder appears whole or not at all (writeFolderAtomic).
 */
export async function writeModelFolder(outDir: string, contents: ModelFolderContents): Promise<void> {
  const existing = await readdir(outDir).catch(() => [] as string[]);
  if (existing.length > 0 && !contents.overwrite) {
    throw new InputError(`out: ${outDir} exists and is not empty (pass overwrite / --force to replace it)`);
  }
  const { config, head, weights } = contents;
  const family = familyFor(config, `${outDir}: config`);
  await writeFolderAtomic(outDir, async (staging) => {
    await mkdir(join(staging, 'onnx'));
    await writeFile(join(staging, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    await contents.writeTokenizer(staging);
    await writeSafetensorsFile(join(staging, 'model.safetensors'), weights, family.weightsMetadata);
    await family.writeOnnx(join(staging, 'onnx', 'model.onnx'), config, weights, { head, dtype: 'fp32' });
    await family.writeOnnx(join(staging, 'onnx', 'model_quantized.onnx'), config, weights, { head, dtype: 'int8' });
    await family.writeExtraFiles?.(staging, config, head, contents.pooling ?? 'mean');
  });
}

/** Copies whichever tokenizer files `sourceDir` has into `dir`. */
export function copyTokenizerFrom(sourceDir: string): (dir: string) => Promise<void> {
  return async (dir) => {
    for (const file of TOKENIZER_FILES) {
      if (await exists(join(sourceDir, file))) await copyFile(join(sourceDir, file), join(dir, file));
    }
  };
}
