/**
 * Runs a USE Lite model folder written by `convertUseLite` on onnxruntime-node: the same embeddings as the TF.js
 * runtime (`UseLiteEncoder`), plus per-token vectors the TF.js wrapper cannot give.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lengthSortedBatches } from '../batching.js';
import type { TokenEmbeddings } from '../bi-encoder.js';
import type { SentenceEncoder } from '../sentence-encoder.js';
import { createSession, int64Tensor, type ort } from '../session.js';
import { l2normalize } from '../vectors.js';
import type { UseLiteConfig, UseLiteDtype } from './graph.js';
import { UseLiteTokenizer } from './tokenizer.js';
import { InputError, ModelInvalidError } from '../../errors.js';

export interface UseLiteOnnxLoadOptions {
  /** `fp32` (onnx/model.onnx, the default) or `int8` (onnx/model_quantized.onnx). */
  dtype?: UseLiteDtype;
  threads?: number;
  /** Name shown in tables and results (default: the folder). */
  name?: string;
}

export interface UseLiteEncodeOptions {
  /** The graph's vector is already unit length; true (the default) renormalises it, which changes nothing. */
  normalize?: boolean;
  batchSize?: number;
}

/** Short sentences: batching amortises per-call overhead; 16 matches the TF.js wrapper's default. */
const DEFAULT_BATCH_SIZE = 16;

export class UseLiteOnnxEncoder implements SentenceEncoder {
  readonly dimension: number;
  readonly maxTokens: number;
  private released = false;

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly config: UseLiteConfig,
    readonly tokenizer: UseLiteTokenizer,
    private readonly session: ort.InferenceSession,
  ) {
    this.dimension = config.hidden_size;
    this.maxTokens = Math.min(config.max_position_embeddings, tokenizer.maxTokens);
  }

  static async load(dir: string, options: UseLiteOnnxLoadOptions = {}): Promise<UseLiteOnnxEncoder> {
    const dtype = options.dtype ?? 'fp32';
    if (dtype !== 'fp32' && dtype !== 'int8') throw new ModelInvalidError(`use-lite: dtype must be "fp32" or "int8", got ${JSON.stringify(dtype)}`);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as UseLiteConfig;
    if (config.model_type !== 'use-lite') throw new ModelInvalidError(`${join(dir, 'config.json')}: model_type is "${config.model_type}", expected "use-lite"`);
    const tokenizer = await UseLiteTokenizer.load(join(dir, 'tokenizer.json'));
    const session = await createSession(join(dir, 'onnx', dtype === 'int8' ? 'model_quantized.onnx' : 'model.onnx'), { threads: options.threads });
    const name = options.name ?? dir;
    return new UseLiteOnnxEncoder(dtype === 'int8' ? `${name} (int8)` : name, dir, config, tokenizer, session);
  }

  /** Token ids the model sees: the runtime's tokenization, clipped to the graph's 128 positions. */
  tokenize(text: string): number[] {
    return this.tokenizer.encodeClipped(text, this.maxTokens);
  }

  async encode(texts: readonly string[], options: UseLiteEncodeOptions = {}): Promise<Float32Array[]> {
    const normalize = options.normalize ?? true;
    const out = new Array<Float32Array>(texts.length);
    const H = this.dimension;
    await this.forEachBatch(texts, options.batchSize, async (result, _ids, _T, indices) => {
      const data = result.sentence_embedding.data as Float32Array;
      indices.forEach((textIndex, row) => {
        const v = data.slice(row * H, (row + 1) * H);
        out[textIndex] = normalize ? l2normalize(v) : v;
      });
    }, ['sentence_embedding']);
    return out;
  }

  /** One unit-length vector per token (the final per-token states), in token order. */
  async encodeTokens(texts: readonly string[], options: { batchSize?: number } = {}): Promise<TokenEmbeddings[]> {
    const out = new Array<TokenEmbeddings>(texts.length);
    const H = this.dimension;
    await this.forEachBatch(texts, options.batchSize, async (result, ids, T, indices) => {
      const states = result.token_embeddings.data as Float32Array;
      indices.forEach((textIndex, row) => {
        const tokenIds = ids[textIndex];
        const vectors = new Float32Array(tokenIds.length * H);
        for (let t = 0; t < tokenIds.length; t++) {
          vectors.set(l2normalize(states.subarray((row * T + t) * H, (row * T + t + 1) * H)), t * H);
        }
        out[textIndex] = { ids: tokenIds, vectors, count: tokenIds.length, dimension: H };
      });
    }, ['token_embeddings']);
    return out;
  }

  private async forEachBatch(
    texts: readonly string[],
    batchSize: number | undefined,
    consume: (result: ort.InferenceSession.OnnxValueMapType, ids: number[][], T: number, indices: number[]) => Promise<void>,
    fetches: string[],
  ): Promise<void> {
    if (this.released) throw new InputError('use-lite: encoder used after dispose()');
    const size = batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(size) || size < 1) throw new InputError(`use-lite: batchSize must be a positive integer, got ${size}`);
    const ids = texts.map((text, i) => {
      if (typeof text !== 'string') throw new TypeError(`use-lite: texts[${i}] is not a string`);
      return this.tokenize(text);
    });
    for (const indices of lengthSortedBatches(ids.map((r) => r.length), { maxBatchSize: size })) {
      // A batch of empty texts still needs one (masked) column; the pooled vector of no tokens is tanh(bias).
      const T = Math.max(1, ...indices.map((i) => ids[i].length));
      const inputIds = new BigInt64Array(indices.length * T);
      const mask = new BigInt64Array(indices.length * T);
      indices.forEach((textIndex, row) => {
        ids[textIndex].forEach((id, t) => {
          inputIds[row * T + t] = BigInt(id);
          mask[row * T + t] = 1n;
        });
      });
      const result = await this.session.run(
        { input_ids: int64Tensor(inputIds, [indices.length, T]), attention_mask: int64Tensor(mask, [indices.length, T]) },
        fetches,
      );
      try {
        await consume(result, ids, T, indices);
      } finally {
        for (const value of Object.values(result)) value.dispose?.();
      }
    }
  }

  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
