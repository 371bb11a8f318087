/**
 * The fine-tuning engine: BERT on libtorch through a small N-API addon (native/), with the losses, AdamW and
 * schedule that sentence-transformers uses, so that a model fine-tuned here behaves like one fine-tuned in Python.
 *
 * Parameters keep their Hugging Face names throughout; `state()` hands them back under the exact names they were
 * given, ready for the family's weight and graph writers. What the addon builds (its parameter layout and model spec)
 * comes from the config's model family (src/models/families.ts). Heavy calls run on libuv worker threads; calls on one
 * model are queued in order, so the caller may fire several without awaiting each.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BertConfig, ModelHead } from '../models/config.js';
import type { FamilyConfig } from '../models/family.js';
import { familyFor } from '../models/families.js';
import type { TensorMap } from '../models/tensors.js';
import type { PaddedBatch } from '../models/tokenizer/index.js';
import { describeLoss, isLossName, lossNames, type LossName, type TrainRequest } from './losses/registry.js';
import { BackendUnavailableError, InputError, ModelInvalidError } from '../errors.js';

/** The loss ids the engine accepts: the loss registry's names. */
export type LossKind = LossName;
export type { TrainRequest };

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
  /** A config.json whose model_type has a family (BERT, USE Lite); the family decides the layout and pooling rules. */
  config: FamilyConfig | BertConfig;
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
  lossNames(): string[];
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
    throw new BackendUnavailableError(
      `rankwise: the libtorch training engine is not built (no ${path}). ` +
        'Run `npm run build:native` first (it needs libtorch: apt-get install libtorch-dev).',
    );
  }
  try {
    nativeModule = createRequire(import.meta.url)(path) as NativeModule;
  } catch (error) {
    throw new BackendUnavailableError(`rankwise: cannot load the libtorch training engine ${path}: ${(error as Error).message}. Try \`npm run build:native\`.`);
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

/** The loss ids the native addon's own table accepts (native/src/losses.cpp); the registry must hold the same. */
export function nativeLossNames(): string[] {
  return native().lossNames();
}

/** libtorch's version, the intra-op threads a TorchBert uses unless told otherwise, and the BLAS libtorch calls. */
export function engineInfo(): { torchVersion: string; threads: number; blas?: string } {
  return { ...native().engineInfo(), threads: defaultThreads() };
}

/**
 * One loss on raw inputs, in float64, with its gradient w.r.t. every array input (targets included) from libtorch
 * autograd. Runs the very loss code that trainStep runs, which is what makes per-loss gradient checks meaningful.
 */
export function evaluateLoss(kind: LossKind, inputs: LossInputs): { loss: number; gradients: Record<string, Float64Array> } {
  if (!isLossName(kind)) throw new InputError(`evaluateLoss: unknown loss ${JSON.stringify(kind)} (expected ${lossNames().join(', ')})`);
  const needed = describeLoss(kind).evaluationInputs as ReadonlyArray<keyof LossInputs>;
  for (const key of needed) {
    const v = inputs[key];
    if (key === 'dim' || key === 'scale') {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`evaluateLoss(${kind}): "${key}" must be a finite number`);
    } else if (!(v instanceof Float64Array)) {
      throw new InputError(`evaluateLoss(${kind}): "${key}" must be a Float64Array`);
    }
  }
  return native().evaluateLoss(kind, inputs);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** One weight checked against its expected shape; float32 data as the addon takes it. */
function checkedData(weights: TensorMap, key: string, shape: readonly number[]): Float32Array {
  const t = weights.get(key)!;
  const size = shape.reduce((x, y) => x * y, 1);
  if (!Array.isArray(t.shape) || !sameShape(t.shape, shape)) throw new InputError(`weights: tensor "${key}" has shape [${t.shape}], expected [${shape}]`);
  if (!(t.data instanceof Float32Array) || t.data.length !== size) throw new InputError(`weights: tensor "${key}" must hold ${size} float32 values for shape [${shape}]`);
  return t.data;
}

function missing(name: string, spelled: readonly string[]): Error {
  const also = spelled.filter((k) => k !== name).map((k) => `"${k}"`).join(', ');
  return new ModelInvalidError(`weights: missing tensor "${name}"${also ? ` (also looked for ${also})` : ''}`);
}

function toNativeBatch(batch: PaddedBatch, what: string): NativeBatch {
  if (!batch || typeof batch !== 'object') throw new InputError(`${what}: expected a PaddedBatch`);
  const { inputIds, tokenTypeIds, attentionMask, batchSize, sequenceLength } = batch;
  if (!Number.isInteger(batchSize) || batchSize < 1 || !Number.isInteger(sequenceLength) || sequenceLength < 1) {
    throw new InputError(`${what}: batchSize and sequenceLength must be positive integers, got ${batchSize} x ${sequenceLength}`);
  }
  for (const [key, arr] of [['inputIds', inputIds], ['tokenTypeIds', tokenTypeIds], ['attentionMask', attentionMask]] as const) {
    if (!(arr instanceof BigInt64Array)) throw new InputError(`${what}.${key}: expected a BigInt64Array`);
    if (arr.length !== batchSize * sequenceLength) {
      throw new InputError(`${what}.${key}: holds ${arr.length} values, batchSize x sequenceLength is ${batchSize * sequenceLength}`);
    }
  }
  return { inputIds, tokenTypeIds, attentionMask, batchSize, sequenceLength };
}

function values(arr: Float32Array, rows: number, what: string): Float32Array {
  if (!(arr instanceof Float32Array)) throw new InputError(`${what}: expected a Float32Array`);
  if (arr.length !== rows) throw new InputError(`${what}: expected ${rows} values (one per row), got ${arr.length}`);
  for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i])) throw new InputError(`${what}[${i}] is not finite`);
  return arr;
}

function pairOf(x: PaddedBatch, y: PaddedBatch, loss: string, xName: string, yName: string): NativeBatch[] {
  const a = toNativeBatch(x, `${loss}: ${xName}`);
  const b = toNativeBatch(y, `${loss}: ${yName}`);
  if (a.batchSize !== b.batchSize) throw new InputError(`${loss}: ${xName} has ${a.batchSize} rows but ${yName} has ${b.batchSize}`);
  return [a, b];
}

function toNativeRequest(request: TrainRequest, head: ModelHead, labels: number): NativeRequest {
  if (!request || typeof request !== 'object') throw new InputError('request: expected an object');
  const kind = request.loss;
  if (isLossName(kind)) {
    const crossLoss = describeLoss(kind).target === 'cross-encoder';
    const wanted: ModelHead = crossLoss ? 'sequence-classification' : 'none';
    if (head !== wanted) {
      throw new InputError(`loss "${kind}" trains a ${crossLoss ? 'cross-encoder' : 'bi-encoder'}, but this model has head "${head}"`);
    }
    if (crossLoss && labels !== 1) throw new InputError(`loss "${kind}" needs a one-logit model, this one has ${labels} labels`);
  }
  // The case labels are checked against the registry's request types: a name the registry lacks does not compile.
  switch (request.loss) {
    case 'bce': {
      const batch = toNativeBatch(request.batch, `${request.loss}: batch`);
      return { loss: request.loss, batches: [batch], values: values(request.labels, batch.batchSize, `${request.loss}: labels`) };
    }
    case 'mse': {
      const batch = toNativeBatch(request.batch, `${request.loss}: batch`);
      const activation = request.activation ?? 'none';
      if (activation !== 'none' && activation !== 'sigmoid') throw new InputError(`${request.loss}: activation must be "none" or "sigmoid", got ${JSON.stringify(activation)}`);
      return { loss: request.loss, batches: [batch], values: values(request.targets, batch.batchSize, `${request.loss}: targets`), sigmoid: activation === 'sigmoid' };
    }
    case 'margin-mse': {
      const batches = pairOf(request.positives, request.negatives, request.loss, 'positives', 'negatives');
      return { loss: request.loss, batches, values: values(request.margins, batches[0].batchSize, `${request.loss}: margins`) };
    }
    case 'cosine': {
      const batches = pairOf(request.a, request.b, request.loss, 'a', 'b');
      return { loss: request.loss, batches, values: values(request.targets, batches[0].batchSize, `${request.loss}: targets`) };
    }
    case 'mnrl': {
      const batches = pairOf(request.anchors, request.positives, request.loss, 'anchors', 'positives');
      if (typeof request.scale !== 'number' || !Number.isFinite(request.scale)) throw new InputError(`${request.loss}: scale must be a finite number, got ${request.scale}`);
      return { loss: request.loss, batches, scale: request.scale };
    }
    default:
      throw new InputError(`request: unknown loss ${JSON.stringify((request as { loss: unknown }).loss)} (expected ${lossNames().join(', ')})`);
  }
}

export class TorchBert {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private disposed = false;

  private constructor(
    private readonly model: NativeModel,
    readonly config: FamilyConfig,
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
    const { config, head, weights } = options;
    if (head !== 'sequence-classification' && head !== 'none') throw new InputError(`head: expected "sequence-classification" or "none", got ${JSON.stringify(head)}`);
    if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new InputError(`seed: expected a non-negative integer, got ${options.seed}`);
    const threads = options.threads ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new InputError(`threads: expected a positive integer, got ${threads}`);
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw new InputError(`dtype: expected "float32" or "float64", got ${JSON.stringify(dtype)}`);
    const layout = familyFor(config).torchLayout(config, head, options.pooling);
    const givenName = new Map<string, string>();
    const canonicalName = new Map<string, string>();
    const names: string[] = [];
    const data: Float32Array[] = [];
    for (const { name, shape, spelled } of layout.parameters) {
      const key = spelled.find((k) => weights.has(k));
      if (key === undefined) throw missing(name, spelled);
      data.push(checkedData(weights, key, shape));
      givenName.set(name, key);
      canonicalName.set(key, name);
      canonicalName.set(name, name);
      names.push(name);
    }
    // Fixed tensors reach the engine but are not trained; state() passes them through from the caller's weights.
    for (const { name, shape } of layout.fixed) {
      if (!weights.has(name)) throw missing(name, [name]);
      data.push(checkedData(weights, name, shape));
      names.push(name);
    }
    const spec = { ...layout.spec, head, seed: options.seed, threads, dtype };
    const model = new addon.TorchBertNative(spec, names, data);
    return new TorchBert(model, config, head, layout.labels, givenName, canonicalName, weights);
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
      if (!ok) throw new InputError(`configureOptimizer: ${message}`);
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
    if (c === undefined) throw new InputError(`${method}: "${name}" is not a trained parameter of this model`);
    return c;
  }

  private assertIdle(method: string): void {
    if (this.disposed) throw new InputError(`TorchBert.${method}: the model has been disposed`);
    if (this.pending > 0) throw new InputError(`TorchBert.${method}: ${this.pending} call(s) on this model are still running; await them first`);
  }

  /** Runs calls one after another, in call order, so at most one native call per model is ever in flight. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new InputError('TorchBert: the model has been disposed'));
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
