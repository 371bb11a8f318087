import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBertUncasedTokenizerFiles } from './bert-vocab.js';
import type { BertConfig, ModelHead } from './config.js';
import { initBertWeights } from './init-weights.js';
import { writeBertOnnx } from './onnx/bert-graph.js';
import { writeSafetensorsFile } from './safetensors.js';

export type FixtureKind = 'cross-encoder' | 'bi-encoder';

export interface FixtureOptions {
  kind: FixtureKind;
  layers?: number;
  hidden?: number;
  heads?: number;
  intermediate?: number;
  seed?: number;
  maxPositionEmbeddings?: number;
  /** Replace an existing, non-empty folder. */
  overwrite?: boolean;
}

/** The MiniLM-L6-H384 shape of the common MS MARCO cross-encoders, used by the benchmarks. */
export const MINILM_L6_SHAPE = { layers: 6, hidden: 384, heads: 12, intermediate: 1536 } as const;

export function fixtureConfig(options: FixtureOptions): BertConfig {
  const crossEncoder = options.kind === 'cross-encoder';
  return {
    model_type: 'bert',
    architectures: [crossEncoder ? 'BertForSequenceClassification' : 'BertModel'],
    vocab_size: 30522,
    hidden_size: options.hidden ?? 64,
    num_hidden_layers: options.layers ?? 2,
    num_attention_heads: options.heads ?? 4,
    intermediate_size: options.intermediate ?? 128,
    max_position_embeddings: options.maxPositionEmbeddings ?? 512,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    initializer_range: 0.02,
    pad_token_id: 0,
    ...(crossEncoder
      ? { id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 }, sentence_transformers: { activation_fn: 'torch.nn.modules.activation.Sigmoid' } }
      : {}),
  };
}

/**
 * Writes a complete model folder with seeded random weights: config.json, the bert-base-uncased WordPiece tokenizer,
 * model.safetensors with Hugging Face names, and both ONNX files. Same options, same bytes. The folder appears
 * whole or not at all: it is built under a temporary name and renamed into place.
 */
export async function createFixtureModel(outDir: string, options: FixtureOptions): Promise<BertConfig> {
  if (options.kind !== 'cross-encoder' && options.kind !== 'bi-encoder') {
    throw new Error(`kind: expected "cross-encoder" or "bi-encoder", got ${JSON.stringify(options.kind)}`);
  }
  for (const key of ['layers', 'hidden', 'heads', 'intermediate', 'seed'] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isInteger(v) || v < (key === 'seed' ? 0 : 1))) {
      throw new Error(`${key}: expected ${key === 'seed' ? 'a non-negative' : 'a positive'} integer, got ${v}`);
    }
  }
  const config = fixtureConfig(options);
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new Error(`hidden (${config.hidden_size}) must be divisible by heads (${config.num_attention_heads})`);
  }
  const existing = await readdir(outDir).catch(() => [] as string[]);
  if (existing.length > 0 && !options.overwrite) {
    throw new Error(`out: ${outDir} exists and is not empty (pass overwrite / --force to replace it)`);
  }

  const head: ModelHead = options.kind === 'cross-encoder' ? 'sequence-classification' : 'none';
  const weights = initBertWeights(config, head, options.seed ?? 1);
  const staging = `${outDir.replace(/\/+$/, '')}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, 'onnx'), { recursive: true });
  try {
    await writeFile(join(staging, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    await writeBertUncasedTokenizerFiles(staging);
    await writeSafetensorsFile(join(staging, 'model.safetensors'), weights, { format: 'pt' });
    await writeBertOnnx(join(staging, 'onnx', 'model.onnx'), config, weights, { head, dtype: 'fp32' });
    await writeBertOnnx(join(staging, 'onnx', 'model_quantized.onnx'), config, weights, { head, dtype: 'int8' });
    if (options.kind === 'bi-encoder') await writeSentenceTransformersFiles(staging, config.hidden_size);
    await rm(outDir, { recursive: true, force: true });
    await rename(staging, outDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return config;
}

/** modules.json and 1_Pooling/config.json, so that sentence-transformers reads the folder as a mean-pooling model. */
async function writeSentenceTransformersFiles(dir: string, dimension: number): Promise<void> {
  await mkdir(join(dir, '1_Pooling'), { recursive: true });
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  await writeFile(join(dir, 'modules.json'), JSON.stringify(modules, null, 2) + '\n');
  const pooling = {
    word_embedding_dimension: dimension,
    pooling_mode_cls_token: false,
    pooling_mode_mean_tokens: true,
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
  };
  await writeFile(join(dir, '1_Pooling', 'config.json'), JSON.stringify(pooling, null, 2) + '\n');
}
