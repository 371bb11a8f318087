import { writeBertUncasedTokenizerFiles } from './bert-vocab.js';
import type { BertConfig, ModelHead } from './config.js';
import { initBertWeights } from './init-weights.js';
import { writeModelFolder } from './model-writer.js';
import { InputError, ModelInvalidError } from '../errors.js';

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
 * model.safetensors with Hugging Face names, and both ONNX files. Same options, same bytes.
 */
export async function createFixtureModel(outDir: string, options: FixtureOptions): Promise<BertConfig> {
  if (options.kind !== 'cross-encoder' && options.kind !== 'bi-encoder') {
    throw new InputError(`kind: expected "cross-encoder" or "bi-encoder", got ${JSON.stringify(options.kind)}`);
  }
  for (const key of ['layers', 'hidden', 'heads', 'intermediate', 'seed'] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isInteger(v) || v < (key === 'seed' ? 0 : 1))) {
      throw new InputError(`${key}: expected ${key === 'seed' ? 'a non-negative' : 'a positive'} integer, got ${v}`);
    }
  }
  const config = fixtureConfig(options);
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new ModelInvalidError(`hidden (${config.hidden_size}) must be divisible by heads (${config.num_attention_heads})`);
  }
  const head: ModelHead = options.kind === 'cross-encoder' ? 'sequence-classification' : 'none';
  await writeModelFolder(outDir, {
    config,
    head,
    weights: initBertWeights(config, head, options.seed ?? 1),
    writeTokenizer: writeBertUncasedTokenizerFiles,
    overwrite: options.overwrite,
  });
  return config;
}
