/**
 * The fine-tuning engine: BERT on libtorch through a small N-API addon (native/), with the losses, AdamW and
 * schedule that sentence-transformers uses, so that a model fine-tuned here behaves like one fine-tuned in Python.
 *
 * Parameters keep their Hugging Face names throughout; `state()` hands them back under the exact names they were
 * given, ready for writeSafetensorsFile / writeBertOnnx. A config with model_type "use-lite" builds Universal Sentence
 * Encoder Lite instead (bi-encoder only), whose state() feeds buildUseLiteOnnx. Heavy calls run on libuv worker threads; calls on one model
 * are queued in order, so the caller may fire several without awaiting each.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BertConfig, ModelHead } from '../models/config.js';
import { numLabels } from '../models/config.js';
import type { TensorMap } from '../models/tensors.js';
import type { UseLiteConfig } from '../models/use-lite/graph.js';
import type { PaddedBatch } from '../models/tokenizer.js';

export type LossKind = 'bce' | 'mse' | 'margin-mse' | 'cosine' | 'mnrl';

export type TrainRequest =
  /** BCEWithLogits on the one logit. */
  | { loss: 'bce'; batch: PaddedBatch; labels: Float32Array }
  /** MSE(act(logit), target); activation 'none' by default. */
  | { loss: 'mse'; batch: PaddedBatch; targets: Float32Array; activation?: 'none' | 'sigmoid' }
  /** MSE(s_pos - s_neg, margin) on the logits. */
  | { loss: 'margin-mse'; positives: PaddedBatch; negatives: PaddedBatch; margins: Float32Array }
  /** Bi-encoder: MSE(cos(u, v), target). */
  | { loss: 'cosine'; a: PaddedBatch; b: PaddedBatch; targets: Float32Array }
  /** Bi-encoder: cross-entropy over scale * cos(anchor_i, positive_j) with label i (in-batch negatives). */
  | { loss: 'mnrl'; anchors: PaddedBatch; positives: PaddedBatch; scale: number };

export interface OptimizerOptions {
  lr: number;
  weightDecay: number;
  warmupSteps: number;
  totalSteps: number;
  /** Gradient clipping threshold on the global 2-norm; 0 or Infinity turns clipping off (the norm is still reported). */
  maxGradNorm: number;
  betas?: [number, number];
  eps?: number;
}

export interface StepResult {
  loss: number;
  /** Global gradient 2-norm before clipping. */
  gradNorm: number;
  /** The learning rate this step used. */
  lr: number;
  /** Optimizer steps taken so far, this one included. */
  step: number;
}

export interface TorchBertOptions {
  /**
   * A BERT config, or USE Lite's (model_type "use-lite", its own fixed pooling). A USE Lite cross-encoder also takes
   * type_vocab_size (default 2) and num_labels / id2label (default 1) from the config.
   */
  config: BertConfig | UseLiteConfig;
  head: ModelHead;
  weights: TensorMap;
  pooling?: 'mean' | 'cls';
  seed: number;
  threads?: number;
  dtype?: 'float32' | 'float64';
}

export interface LossInputs {
  scores?: Float64Array;
  positives?: Float64Array;
  negatives?: Float64Array;
  a?: Float64Array;
  b?: Float64Array;
  dim?: number;
  targets?: Float64Array;
  scale?: number;
  activation?: 'none' | 'sigmoid';
}

interface NativeBatch {
  inputIds: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  attentionMask: BigInt64Array;
  batchSize: number;
  sequenceLength: number;
}

interface NativeRequest {
  loss: LossKind;
  batches: NativeBatch[];
  values?: Float32Array;
  sigmoid?: boolean;
  scale?: number;
}

interface NativeModel {
  state(): Array<{ name: string; shape: number[]; data: Float32Array }>;
  setParameter(name: string, data: Float32Array | Float64Array): void;
  forward(batch: NativeBatch): Promise<Float32Array>;
  hiddenStates(batch: NativeBatch): Promise<Float32Array>;
  configureOptimizer(options: Required<Omit<OptimizerOptions, 'betas'>> & { beta1: number; beta2: number }): void;
  trainStep(request: NativeRequest): Promise<StepResult>;
  lossAndGradients(request: NativeRequest, names: string[]): Promise<{ loss: number; gradients: Float64Array[] }>;
  saveCheckpoint(path: string): Promise<void>;
  loadCheckpoint(path: string): Promise<void>;
  dispose(): void;
}

interface NativeModule {
  TorchBertNative: new (spec: Record<string, unknown>, names: string[], data: Float32Array[]) => NativeModel;
  evaluateLoss(kind: LossKind, inputs: LossInputs): { loss: number; gradients: Record<string, Float64Array> };
  engineInfo(): { torchVersion: string; threads: number; blas?: string };
}

let nativeModule: NativeModule | undefined;

/** Where the addon is expected: `native/build/Release` under the package root (the folder with package.json). */
export function addonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) break;
    dir = dirname(dir);
  }
  return join(dir, 'native', 'build', 'Release', 'rankwise_torch.node');
}

function native(): NativeModule {
  if (nativeModule) return nativeModule;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new Error(
      `rankwise: the libtorch training engine is not built (no ${path}). ` +
        'Run `npm run build:native` first (it needs libtorch: apt-get install libtorch-dev).',
    );
  }
  try {
    nativeModule = createRequire(import.meta.url)(path) as NativeModule;
  } catch (error) {
    throw new Error(`rankwise: cannot load the libtorch training engine ${path}: ${(error as Error).message}. Try \`npm run build:native\`.`);
  }
  return nativeModule;
}

/** True when the addon is built and loads; for skipping training features gracefully. */
export function engineAvailable(): boolean {
  try {
    native();
    return true;
  } catch {
    return false;
  }
}

function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/** libtorch's version, the intra-op threads a TorchBert uses unless told otherwise, and the BLAS libtorch calls. */
export function engineInfo(): { torchVersion: string; threads: number; blas?: string } {
  return { ...native().engineInfo(), threads: defaultThreads() };
}

const LOSS_INPUTS: Record<LossKind, Array<keyof LossInputs>> = {
  bce: ['scores', 'targets'],
  mse: ['scores', 'targets'],
  'margin-mse': ['positives', 'negatives', 'targets'],
  cosine: ['a', 'b', 'dim', 'targets'],
  mnrl: ['a', 'b', 'dim', 'scale'],
};

/**
 * One loss on raw inputs, in float64, with its gradient w.r.t. every array input (targets included) from libtorch
 * autograd. Runs the very loss code that trainStep runs, which is what makes per-loss gradient checks meaningful.
 */
export function evaluateLoss(kind: LossKind, inputs: LossInputs): { loss: number; gradients: Record<string, Float64Array> } {
  const needed = LOSS_INPUTS[kind];
  if (!needed) throw new Error(`evaluateLoss: unknown loss ${JSON.stringify(kind)} (expected ${Object.keys(LOSS_INPUTS).join(', ')})`);
  for (const key of needed) {
    const v = inputs[key];
    if (key === 'dim' || key === 'scale') {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`evaluateLoss(${kind}): "${key}" must be a finite number`);
    } else if (!(v instanceof Float64Array)) {
      throw new Error(`evaluateLoss(${kind}): "${key}" must be a Float64Array`);
    }
  }
  return native().evaluateLoss(kind, inputs);
}

interface Layout {
  /** Canonical name (no `bert.` prefix) -> expected shape. */
  shapes: Map<string, number[]>;
}

function layoutOf(config: BertConfig, head: ModelHead): Layout {
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const shapes = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [config.vocab_size, H]],
    ['embeddings.position_embeddings.weight', [config.max_position_embeddings, H]],
    ['embeddings.token_type_embeddings.weight', [config.type_vocab_size, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ]);
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const part of ['query', 'key', 'value']) {
      shapes.set(`${p}.attention.self.${part}.weight`, [H, H]);
      shapes.set(`${p}.attention.self.${part}.bias`, [H]);
    }
    shapes.set(`${p}.attention.output.dense.weight`, [H, H]);
    shapes.set(`${p}.attention.output.dense.bias`, [H]);
    shapes.set(`${p}.attention.output.LayerNorm.weight`, [H]);
    shapes.set(`${p}.attention.output.LayerNorm.bias`, [H]);
    shapes.set(`${p}.intermediate.dense.weight`, [I, H]);
    shapes.set(`${p}.intermediate.dense.bias`, [I]);
    shapes.set(`${p}.output.dense.weight`, [H, I]);
    shapes.set(`${p}.output.dense.bias`, [H]);
    shapes.set(`${p}.output.LayerNorm.weight`, [H]);
    shapes.set(`${p}.output.LayerNorm.bias`, [H]);
  }
  // An encoder's pooler is not used by mean/CLS pooling, so it is carried through untouched rather than trained.
  if (head === 'sequence-classification') {
    const L = numLabels(config);
    shapes.set('pooler.dense.weight', [H, H]);
    shapes.set('pooler.dense.bias', [H]);
    shapes.set('classifier.weight', [L, H]);
    shapes.set('classifier.bias', [L]);
  }
  return { shapes };
}

const USE_LITE_TIMING = 'embeddings.timing_inv_timescales';

function isUseLite(config: BertConfig | UseLiteConfig): config is UseLiteConfig {
  return config?.model_type === 'use-lite';
}

/** Mirrors UseLite::parameterLayout in native/src/use_lite.cpp: the trainable tensors, torch Linear layout [out, in]. */
function useLiteLayout(config: UseLiteConfig, cross?: { types: number; labels: number }): Map<string, number[]> {
  const E = config.embedding_size;
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const shapes = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [config.vocab_size, E]],
    ['pooler.dense.weight', [H, H]],
    ['pooler.dense.bias', [H]],
    ['encoder.layer.0.residual_projection.weight', [H, E]],
    ['encoder.layer.0.residual_projection.bias', [H]],
  ]);
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    const inp = l === 0 ? E : H;
    shapes.set(`${p}.attention.norm.weight`, [inp]);
    shapes.set(`${p}.attention.norm.bias`, [inp]);
    shapes.set(`${p}.attention.qkv.weight`, [3 * inp, inp]);
    shapes.set(`${p}.attention.qkv.bias`, [3 * inp]);
    shapes.set(`${p}.attention.output.weight`, [H, inp]);
    shapes.set(`${p}.attention.output.bias`, [H]);
    shapes.set(`${p}.ffn.norm.weight`, [H]);
    shapes.set(`${p}.ffn.norm.bias`, [H]);
    shapes.set(`${p}.ffn.dense1.weight`, [I, H]);
    shapes.set(`${p}.ffn.dense1.bias`, [I]);
    shapes.set(`${p}.ffn.dense2.weight`, [H, I]);
    shapes.set(`${p}.ffn.dense2.bias`, [H]);
  }
  if (cross) {
    shapes.set('embeddings.token_type_embeddings.weight', [cross.types, E]);
    shapes.set('classifier.weight', [cross.labels, H]);
    shapes.set('classifier.bias', [cross.labels]);
  }
  return shapes;
}

function checkUseLiteConfig(config: UseLiteConfig): void {
  for (const k of ['vocab_size', 'embedding_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size',
    'max_position_embeddings'] as const) {
    const v = config[k];
    if (!Number.isInteger(v) || v < 1) throw new Error(`config: "${k}" must be a positive integer, got ${v}`);
  }
  if (config.embedding_size % config.num_attention_heads !== 0 || config.hidden_size % config.num_attention_heads !== 0) {
    throw new Error(`config: embedding_size ${config.embedding_size} and hidden_size ${config.hidden_size} must be divisible by num_attention_heads ${config.num_attention_heads}`);
  }
  if (config.embedding_size % 2 !== 0) throw new Error(`config: embedding_size ${config.embedding_size} must be even (sin and cos halves of the timing signal)`);
  for (const k of ['layer_norm_eps', 'embedding_multiplier'] as const) {
    const v = config[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v))) throw new Error(`config: "${k}" must be a finite number, got ${JSON.stringify(v)}`);
  }
}

/** One weight checked against its expected shape; float32 data as the addon takes it. */
function checkedWeight(weights: TensorMap, key: string, shape: readonly number[]): Float32Array {
  const t = weights.get(key);
  if (t === undefined) throw new Error(`weights: missing tensor "${key}"`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (!Array.isArray(t.shape) || !sameShape(t.shape, shape)) throw new Error(`weights: tensor "${key}" has shape [${t.shape}], expected [${shape}]`);
  if (!(t.data instanceof Float32Array) || t.data.length !== size) throw new Error(`weights: tensor "${key}" must hold ${size} float32 values for shape [${shape}]`);
  return t.data;
}

function checkConfig(config: BertConfig): void {
  for (const k of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size',
    'max_position_embeddings', 'type_vocab_size'] as const) {
    const v = config[k];
    if (!Number.isInteger(v) || v < (k === 'num_hidden_layers' ? 0 : 1)) throw new Error(`config: "${k}" must be a positive integer, got ${v}`);
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new Error(`config: hidden_size ${config.hidden_size} is not divisible by num_attention_heads ${config.num_attention_heads}`);
  }
  const act = config.hidden_act ?? 'gelu';
  if (!['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'].includes(act)) {
    throw new Error(`config: hidden_act "${act}" is not supported (gelu, gelu_new, relu)`);
  }
}

function probability(config: BertConfig, key: string, fallback: number): number {
  const v = config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Error(`config: "${key}" must be a probability in [0, 1), got ${JSON.stringify(v)}`);
  return v;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function toNativeBatch(batch: PaddedBatch, what: string): NativeBatch {
  if (!batch || typeof batch !== 'object') throw new Error(`${what}: expected a PaddedBatch`);
  const { inputIds, tokenTypeIds, attentionMask, batchSize, sequenceLength } = batch;
  if (!Number.isInteger(batchSize) || batchSize < 1 || !Number.isInteger(sequenceLength) || sequenceLength < 1) {
    throw new Error(`${what}: batchSize and sequenceLength must be positive integers, got ${batchSize} x ${sequenceLength}`);
  }
  for (const [key, arr] of [['inputIds', inputIds], ['tokenTypeIds', tokenTypeIds], ['attentionMask', attentionMask]] as const) {
    if (!(arr instanceof BigInt64Array)) throw new Error(`${what}.${key}: expected a BigInt64Array`);
    if (arr.length !== batchSize * sequenceLength) {
      throw new Error(`${what}.${key}: holds ${arr.length} values, batchSize x sequenceLength is ${batchSize * sequenceLength}`);
    }
  }
  return { inputIds, tokenTypeIds, attentionMask, batchSize, sequenceLength };
}

function values(arr: Float32Array, rows: number, what: string): Float32Array {
  if (!(arr instanceof Float32Array)) throw new Error(`${what}: expected a Float32Array`);
  if (arr.length !== rows) throw new Error(`${what}: expected ${rows} values (one per row), got ${arr.length}`);
  for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i])) throw new Error(`${what}[${i}] is not finite`);
  return arr;
}

function pairOf(x: PaddedBatch, y: PaddedBatch, loss: string, xName: string, yName: string): NativeBatch[] {
  const a = toNativeBatch(x, `${loss}: ${xName}`);
  const b = toNativeBatch(y, `${loss}: ${yName}`);
  if (a.batchSize !== b.batchSize) throw new Error(`${loss}: ${xName} has ${a.batchSize} rows but ${yName} has ${b.batchSize}`);
  return [a, b];
}

function toNativeRequest(request: TrainRequest, head: ModelHead, labels: number): NativeRequest {
  if (!request || typeof request !== 'object') throw new Error('request: expected an object');
  const kind = request.loss;
  const crossLoss = kind === 'bce' || kind === 'mse' || kind === 'margin-mse';
  if (crossLoss || kind === 'cosine' || kind === 'mnrl') {
    const wanted: ModelHead = crossLoss ? 'sequence-classification' : 'none';
    if (head !== wanted) {
      throw new Error(`loss "${kind}" trains a ${crossLoss ? 'cross-encoder' : 'bi-encoder'}, but this model has head "${head}"`);
    }
    if (crossLoss && labels !== 1) throw new Error(`loss "${kind}" needs a one-logit model, this one has ${labels} labels`);
  }
  switch (request.loss) {
    case 'bce': {
      const batch = toNativeBatch(request.batch, 'bce: batch');
      return { loss: 'bce', batches: [batch], values: values(request.labels, batch.batchSize, 'bce: labels') };
    }
    case 'mse': {
      const batch = toNativeBatch(request.batch, 'mse: batch');
      const activation = request.activation ?? 'none';
      if (activation !== 'none' && activation !== 'sigmoid') throw new Error(`mse: activation must be "none" or "sigmoid", got ${JSON.stringify(activation)}`);
      return { loss: 'mse', batches: [batch], values: values(request.targets, batch.batchSize, 'mse: targets'), sigmoid: activation === 'sigmoid' };
    }
    case 'margin-mse': {
      const batches = pairOf(request.positives, request.negatives, 'margin-mse', 'positives', 'negatives');
      return { loss: 'margin-mse', batches, values: values(request.margins, batches[0].batchSize, 'margin-mse: margins') };
    }
    case 'cosine': {
      const batches = pairOf(request.a, request.b, 'cosine', 'a', 'b');
      return { loss: 'cosine', batches, values: values(request.targets, batches[0].batchSize, 'cosine: targets') };
    }
    case 'mnrl': {
      const batches = pairOf(request.anchors, request.positives, 'mnrl', 'anchors', 'positives');
      if (typeof request.scale !== 'number' || !Number.isFinite(request.scale)) throw new Error(`mnrl: scale must be a finite number, got ${request.scale}`);
      return { loss: 'mnrl', batches, scale: request.scale };
    }
    default:
      throw new Error(`request: unknown loss ${JSON.stringify((request as { loss: unknown }).loss)} (expected bce, mse, margin-mse, cosine or mnrl)`);
  }
}

export class TorchBert {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private disposed = false;

  private constructor(
    private readonly model: NativeModel,
    readonly config: BertConfig | UseLiteConfig,
    readonly head: ModelHead,
    /** Logits per row: numLabels(config) for a cross-encoder, else 1. */
    private readonly labels: number,
    /** Canonical name -> the name the caller used (with or without `bert.`). */
    private readonly givenName: Map<string, string>,
    /** Caller name -> canonical name, for every trained parameter. */
    private readonly canonicalName: Map<string, string>,
    /** The caller's weights in their order; entries that are not trained (an encoder's pooler) pass through. */
    private readonly original: TensorMap,
  ) {}

  static create(options: TorchBertOptions): TorchBert {
    const addon = native(); // first, so a missing build is reported before any argument problem
    const { config: anyConfig, head, weights } = options;
    if (head !== 'sequence-classification' && head !== 'none') throw new Error(`head: expected "sequence-classification" or "none", got ${JSON.stringify(head)}`);
    if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new Error(`seed: expected a non-negative integer, got ${options.seed}`);
    const threads = options.threads ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads: expected a positive integer, got ${threads}`);
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`dtype: expected "float32" or "float64", got ${JSON.stringify(dtype)}`);
    if (isUseLite(anyConfig)) return TorchBert.createUseLite(addon, options, anyConfig, threads, dtype);
    const config = anyConfig;
    checkConfig(config);
    const pooling = options.pooling ?? 'mean';
    if (pooling !== 'mean' && pooling !== 'cls') throw new Error(`pooling: expected "mean" or "cls", got ${JSON.stringify(pooling)}`);
    const labels = numLabels(config);
    // Absent means HF BertConfig's default 0; an explicit null means no padding row.
    const rawPad = (config as { pad_token_id?: number | null }).pad_token_id;
    const padTokenId = rawPad === undefined ? 0 : rawPad === null ? -1 : rawPad;
    if (!Number.isInteger(padTokenId) || padTokenId >= config.vocab_size) throw new Error(`config: pad_token_id ${padTokenId} is not a token id`);

    const { shapes } = layoutOf(config, head);
    const givenName = new Map<string, string>();
    const canonicalName = new Map<string, string>();
    const names: string[] = [];
    const data: Float32Array[] = [];
    for (const [name, shape] of shapes) {
      // As the ONNX writer does: encoder tensors under either spelling, the classifier only bare.
      const spelled = name.startsWith('classifier.') ? [name] : [`bert.${name}`, name];
      const key = spelled.find((k) => weights.has(k));
      if (key === undefined) {
        throw new Error(`weights: missing tensor "${name}"${spelled.length > 1 ? ` (also looked for "bert.${name}")` : ''}`);
      }
      const t = weights.get(key)!;
      if (!Array.isArray(t.shape) || !sameShape(t.shape, shape)) throw new Error(`weights: tensor "${key}" has shape [${t.shape}], expected [${shape}]`);
      if (!(t.data instanceof Float32Array) || t.data.length !== shape.reduce((a, b) => a * b, 1)) {
        throw new Error(`weights: tensor "${key}" must hold ${shape.reduce((a, b) => a * b, 1)} float32 values for shape [${shape}]`);
      }
      givenName.set(name, key);
      canonicalName.set(key, name);
      canonicalName.set(name, name);
      names.push(name);
      data.push(t.data);
    }
    const spec = {
      vocabSize: config.vocab_size,
      hiddenSize: config.hidden_size,
      numLayers: config.num_hidden_layers,
      numHeads: config.num_attention_heads,
      intermediateSize: config.intermediate_size,
      maxPositions: config.max_position_embeddings,
      typeVocabSize: config.type_vocab_size,
      numLabels: head === 'sequence-classification' ? labels : 1,
      padTokenId: padTokenId < 0 ? -1 : padTokenId,
      layerNormEps: config.layer_norm_eps ?? 1e-12,
      activation: config.hidden_act ?? 'gelu',
      hiddenDropout: probability(config, 'hidden_dropout_prob', 0.1),
      attentionDropout: probability(config, 'attention_probs_dropout_prob', 0.1),
      // HF: classifier_dropout when set, else hidden_dropout_prob.
      classifierDropout: probability(config, 'classifier_dropout', probability(config, 'hidden_dropout_prob', 0.1)),
      head,
      pooling,
      seed: options.seed,
      threads,
      dtype,
    };
    const model = new addon.TorchBertNative(spec, names, data);
    return new TorchBert(model, config, head, head === 'sequence-classification' ? labels : 1, givenName, canonicalName, weights);
  }

  /**
   * USE Lite as a bi-encoder: forward gives the graph's `sentence_embedding` (masked mean, tanh dense, L2 norm).
   * Weights use the names convertUseLite writes; the timing signal's inverse timescales are a fixed constant of the
   * graph, passed to the engine but never trained, so state() hands them back unchanged.
   *
   * As a cross-encoder (head 'sequence-classification') it also needs `embeddings.token_type_embeddings.weight`
   * [type_vocab_size, embedding_size], added to the first layer's input (zeros keep the pretrained encoder), and
   * `classifier.weight` [labels, hidden] / `classifier.bias` reading the tanh-pooled vector before the L2 norm. The
   * package has neither: the caller initialises them. No ONNX writer exists for this variant yet.
   */
  private static createUseLite(addon: NativeModule, options: TorchBertOptions, config: UseLiteConfig, threads: number,
    dtype: 'float32' | 'float64'): TorchBert {
    const { head, weights } = options;
    if (options.pooling !== undefined && options.pooling !== 'mean') {
      throw new Error(`pooling: use-lite always pools by masked mean, tanh dense and L2 norm, got ${JSON.stringify(options.pooling)}`);
    }
    checkUseLiteConfig(config);
    const extra = config as UseLiteConfig & { type_vocab_size?: number; num_labels?: number; id2label?: Record<string, string> };
    const cross = head === 'sequence-classification'
      ? { types: extra.type_vocab_size ?? 2, labels: extra.id2label ? Object.keys(extra.id2label).length : extra.num_labels ?? 1 }
      : undefined;
    if (cross && !(Number.isInteger(cross.types) && cross.types >= 1 && Number.isInteger(cross.labels) && cross.labels >= 1)) {
      throw new Error(`config: a use-lite cross-encoder needs positive integer type_vocab_size and num_labels, got ${cross.types} and ${cross.labels}`);
    }
    const names: string[] = [];
    const data: Float32Array[] = [];
    const identity = new Map<string, string>();
    for (const [name, shape] of useLiteLayout(config, cross)) {
      data.push(checkedWeight(weights, name, shape));
      names.push(name);
      identity.set(name, name);
    }
    names.push(USE_LITE_TIMING);
    data.push(checkedWeight(weights, USE_LITE_TIMING, [config.embedding_size / 2]));
    const spec = {
      architecture: 'use-lite',
      vocabSize: config.vocab_size,
      embeddingSize: config.embedding_size,
      hiddenSize: config.hidden_size,
      numLayers: config.num_hidden_layers,
      numHeads: config.num_attention_heads,
      intermediateSize: config.intermediate_size,
      maxPositions: config.max_position_embeddings,
      layerNormEps: config.layer_norm_eps ?? 1e-6,
      embeddingMultiplier: config.embedding_multiplier ?? 2,
      head,
      typeVocabSize: cross?.types ?? 1,
      numLabels: cross?.labels ?? 1,
      seed: options.seed,
      threads,
      dtype,
    };
    const model = new addon.TorchBertNative(spec, names, data);
    return new TorchBert(model, config, head, cross?.labels ?? 1, identity, new Map(identity), weights);
  }

  /** Float32 copies of every parameter under the caller's names, plus untrained tensors passed through as given. */
  state(): TensorMap {
    this.assertIdle('state');
    const trained = new Map(this.model.state().map((t) => [t.name, t]));
    const out: TensorMap = new Map();
    for (const [key, t] of this.original) {
      const canonical = this.canonicalName.get(key);
      const fresh = canonical !== undefined && this.givenName.get(canonical) === key ? trained.get(canonical) : undefined;
      out.set(key, fresh ? { shape: fresh.shape, data: fresh.data } : { shape: [...t.shape], data: Float32Array.from(t.data) });
    }
    return out;
  }

  /** Overwrites one parameter (either spelling of its name); for finite-difference checks. */
  setParameter(name: string, data: Float32Array | Float64Array): void {
    this.assertIdle('setParameter');
    this.model.setParameter(this.canonical(name, 'setParameter'), data);
  }

  /**
   * Eval mode: logits [B * numLabels], or for head 'none' the pooled (not normalised) embedding [B * hidden]; for
   * use-lite, the L2-normalised sentence embedding [B * hidden].
   */
  forward(batch: PaddedBatch): Promise<Float32Array> {
    return this.enqueue(() => this.model.forward(toNativeBatch(batch, 'forward: batch')));
  }

  /** Eval mode: last_hidden_state [B * T * hidden]; for use-lite, T clipped to max_position_embeddings and padded rows 0. */
  hiddenStates(batch: PaddedBatch): Promise<Float32Array> {
    return this.enqueue(() => this.model.hiddenStates(toNativeBatch(batch, 'hiddenStates: batch')));
  }

  /**
   * AdamW as torch.optim.AdamW (no decay on biases and LayerNorm weights, as HF's Trainer groups them) with HF's
   * linear schedule: step k (0-based) runs at lr * k / warmup during warm-up, then decays linearly to 0 at
   * totalSteps. Resets the optimizer state and step count.
   */
  configureOptimizer(options: OptimizerOptions): void {
    this.assertIdle('configureOptimizer');
    const { lr, weightDecay, warmupSteps, totalSteps, maxGradNorm } = options;
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    const eps = options.eps ?? 1e-8;
    const check = (ok: boolean, message: string) => {
      if (!ok) throw new Error(`configureOptimizer: ${message}`);
    };
    check(Number.isFinite(lr) && lr >= 0, `lr must be a non-negative number, got ${lr}`);
    check(Number.isFinite(weightDecay) && weightDecay >= 0, `weightDecay must be a non-negative number, got ${weightDecay}`);
    check(Number.isInteger(warmupSteps) && warmupSteps >= 0, `warmupSteps must be a non-negative integer, got ${warmupSteps}`);
    check(Number.isInteger(totalSteps) && totalSteps >= 1, `totalSteps must be a positive integer, got ${totalSteps}`);
    check(typeof maxGradNorm === 'number' && !Number.isNaN(maxGradNorm) && maxGradNorm >= 0, `maxGradNorm must be >= 0 (0 or Infinity: no clipping), got ${maxGradNorm}`);
    check(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, `betas must lie in [0, 1), got [${beta1}, ${beta2}]`);
    check(Number.isFinite(eps) && eps > 0, `eps must be positive, got ${eps}`);
    this.model.configureOptimizer({ lr, weightDecay, warmupSteps, totalSteps, maxGradNorm, beta1, beta2, eps });
  }

  /** Train mode (dropout on): forward, loss, backward, clip, AdamW, scheduler. */
  trainStep(request: TrainRequest): Promise<StepResult> {
    return this.enqueue(() => this.model.trainStep(toNativeRequest(request, this.head, this.labels)));
  }

  /** Eval mode, no optimizer step: the loss and float64 gradients for the named parameters (keyed as passed). */
  lossAndGradients(request: TrainRequest, parameterNames: string[]): Promise<{ loss: number; gradients: Map<string, Float64Array> }> {
    return this.enqueue(async () => {
      const canonical = parameterNames.map((n) => this.canonical(n, 'lossAndGradients'));
      const result = await this.model.lossAndGradients(toNativeRequest(request, this.head, this.labels), canonical);
      return { loss: result.loss, gradients: new Map(parameterNames.map((n, i) => [n, result.gradients[i]])) };
    });
  }

  /** Parameters, optimizer moments and options, step count and dropout RNG state, in libtorch's archive format. */
  saveCheckpoint(path: string): Promise<void> {
    return this.enqueue(() => this.model.saveCheckpoint(resolve(path)));
  }

  /** Restores everything saveCheckpoint wrote, optimizer options included (they replace configureOptimizer's). */
  loadCheckpoint(path: string): Promise<void> {
    return this.enqueue(() => this.model.loadCheckpoint(resolve(path)));
  }

  /** Frees the native model now, or once the calls already queued have finished; later calls are refused. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.pending === 0) this.model.dispose();
    else void this.tail.then(() => this.model.dispose());
  }

  private canonical(name: string, method: string): string {
    const c = this.canonicalName.get(name);
    if (c === undefined) throw new Error(`${method}: "${name}" is not a trained parameter of this model`);
    return c;
  }

  private assertIdle(method: string): void {
    if (this.disposed) throw new Error(`TorchBert.${method}: the model has been disposed`);
    if (this.pending > 0) throw new Error(`TorchBert.${method}: ${this.pending} call(s) on this model are still running; await them first`);
  }

  /** Runs calls one after another, in call order, so at most one native call per model is ever in flight. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new Error('TorchBert: the model has been disposed'));
    this.pending++;
    const run = this.tail.then(fn);
    const settled = run.then(
      () => {
        this.pending--;
      },
      () => {
        this.pending--;
      },
    );
    this.tail = settled;
    return run;
  }
}
