/**
 * What a model family (BERT, USE Lite, next RoBERTa/XLM-R) supplies to the rest of rankwise. Everything that differs
 * between families is decided here, once; loaders, writers and the trainer ask `familyFor(config)` (src/models/families.ts)
 * instead of testing model names. Adding a family means writing one object of this shape and one line in that table.
 */
import type { ModelHead } from './config.js';
import type { BiEncoderLoadOptions, TokenEmbeddings } from './bi-encoder.js';
import type { ModelFolder } from './model-folder.js';
import type { SentenceEncoder } from './sentence-encoder.js';
import type { TensorMap } from './tensors.js';
import type { SequenceTokenizer } from './tokenizer/index.js';

export type GraphDtype = 'fp32' | 'int8';

/** The fields every family's config.json shares; each family narrows it to its own config type for the rest. */
export interface FamilyConfig {
  model_type?: string;
  hidden_size: number;
  max_position_embeddings: number;
  architectures?: string[];
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  num_labels?: number;
  sentence_transformers?: { activation_fn?: string };
}

/** A sentence encoder that also gives per-token vectors (late interaction uses them). */
export interface TokenSentenceEncoder extends SentenceEncoder {
  encodeTokens(texts: readonly string[]): Promise<TokenEmbeddings[]>;
}

/**
 * The parameters libtorch trains, in torch layout ([out, in] for Linear), and the native model's spec. `spelled`
 * lists the names a tensor may carry in a weight map (BERT's encoder tensors with or without `bert.`); `fixed`
 * tensors go to the engine but are never trained (state() hands them back unchanged).
 */
export interface TorchLayout {
  parameters: Array<{ name: string; shape: number[]; spelled: string[] }>;
  fixed: Array<{ name: string; shape: number[] }>;
  /** Logits per row the model produces. */
  labels: number;
  /** The addon's model spec, less head / seed / threads / dtype, which the engine adds. */
  spec: Record<string, unknown>;
}

export interface ModelFamily {
  /** Shown in errors and listings. */
  readonly name: string;
  /** The config.json `model_type` values this family serves. */
  readonly modelTypes: readonly string[];
  /** Checks a parsed config.json (`source` names the file in errors) and returns it with defaults filled in. */
  validateConfig(raw: unknown, source: string): FamilyConfig;
  /** Which head the config describes. */
  headOf(config: FamilyConfig): ModelHead;
  /** The tokenizer that turns texts and pairs into the graph's inputs, read from the model folder. */
  loadTokenizer(dir: string): Promise<SequenceTokenizer>;
  /** Writes the ONNX graph for these weights (Hugging Face / converter names) to `path`. */
  writeOnnx(path: string, config: FamilyConfig, weights: TensorMap, options: { head: ModelHead; dtype: GraphDtype }): Promise<void>;
  /** Metadata stored in model.safetensors beside the tensors. */
  readonly weightsMetadata: Record<string, string>;
  /** Files beyond config, tokenizer, weights and graphs (sentence-transformers' module files for a BERT encoder). */
  writeExtraFiles?(dir: string, config: FamilyConfig, head: ModelHead, pooling: 'mean' | 'cls'): Promise<void>;
  /** Loads the sentence encoder of a resolved plain-encoder folder (no classification head). */
  loadSentenceEncoder(folder: ModelFolder, options: BiEncoderLoadOptions): Promise<TokenSentenceEncoder>;
  /**
   * A base model's config and weights reshaped for `head`: a fresh seeded classifier added for a cross-encoder, the
   * classifier dropped for an encoder. Training starts from the result.
   */
  retarget(config: FamilyConfig, weights: TensorMap, head: ModelHead, seed: number): { config: FamilyConfig; weights: TensorMap };
  /** The pooling a base folder records for bi-encoder training. */
  pooling(dir: string): Promise<'mean' | 'cls'>;
  /** What libtorch trains for this config and head; `pooling` as the caller asked (undefined: the family's default). */
  torchLayout(config: FamilyConfig, head: ModelHead, pooling: 'mean' | 'cls' | undefined): TorchLayout;
}
