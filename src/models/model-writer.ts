import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BertConfig, ModelHead } from './config.js';
import { writeFolderAtomic } from '../util/atomic-write.js';
import { exists } from '../util/fs.js';
import { writeBertOnnx } from './onnx/bert-graph.js';
import { writeSafetensorsFile } from './safetensors.js';
import type { TensorMap } from './tensors.js';
import { buildUseLiteOnnx, type UseLiteConfig } from './use-lite/graph.js';

/** Files a Hugging Face tokenizer may consist of; whichever the source folder has are copied along. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

export interface ModelFolderContents {
  /** A BERT-family config, or a USE Lite one (`model_type: "use-lite"`), which selects that family's graph writer. */
  config: BertConfig | UseLiteConfig;
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
    throw new Error(`out: ${outDir} exists and is not empty (pass overwrite / --force to replace it)`);
  }
  const { config, head, weights } = contents;
  await writeFolderAtomic(outDir, async (staging) => {
    await mkdir(join(staging, 'onnx'));
    await writeFile(join(staging, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    await contents.writeTokenizer(staging);
    if (config.model_type === 'use-lite') {
      const useLite = config as UseLiteConfig;
      await writeSafetensorsFile(join(staging, 'model.safetensors'), weights, { format: 'pt', rankwise_model_type: 'use-lite' });
      await writeFile(join(staging, 'onnx', 'model.onnx'), buildUseLiteOnnx(weights, 'fp32', useLite, head));
      await writeFile(join(staging, 'onnx', 'model_quantized.onnx'), buildUseLiteOnnx(weights, 'int8', useLite, head));
      return;
    }
    const bert = config as BertConfig;
    await writeSafetensorsFile(join(staging, 'model.safetensors'), weights, { format: 'pt' });
    await writeBertOnnx(join(staging, 'onnx', 'model.onnx'), bert, weights, { head, dtype: 'fp32' });
    await writeBertOnnx(join(staging, 'onnx', 'model_quantized.onnx'), bert, weights, { head, dtype: 'int8' });
    if (head === 'none') await writeSentenceTransformersFiles(staging, bert.hidden_size, contents.pooling ?? 'mean');
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

/** modules.json and 1_Pooling/config.json, so that sentence-transformers reads the folder as the same model. */
async function writeSentenceTransformersFiles(dir: string, dimension: number, pooling: 'mean' | 'cls'): Promise<void> {
  await mkdir(join(dir, '1_Pooling'), { recursive: true });
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  await writeFile(join(dir, 'modules.json'), JSON.stringify(modules, null, 2) + '\n');
  const config = {
    word_embedding_dimension: dimension,
    pooling_mode_cls_token: pooling === 'cls',
    pooling_mode_mean_tokens: pooling === 'mean',
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
  };
  await writeFile(join(dir, '1_Pooling', 'config.json'), JSON.stringify(config, null, 2) + '\n');
}
