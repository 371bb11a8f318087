import { join } from 'node:path';
import { forEachBatch } from './batching.js';
import { loadBertModel, openBertModel, runBertBatch, type BertModel, type BertModelLoadOptions } from './bert-model.js';
import type { ModelFolder } from './model-folder.js';
import type { SentenceEncoder } from './sentence-encoder.js';
import type { ort } from './session.js';
import type { Encoded, PaddedBatch, SequenceTokenizer } from './tokenizer/index.js';
import { l2normalize } from './vectors.js';

import { recordedPooling, type Pooling } from './bert/sentence-transformers.js';
import { InputError } from '../errors.js';
export { recordedPooling, type Pooling } from './bert/sentence-transformers.js';

export interface BiEncoderLoadOptions extends BertModelLoadOptions {
  /** Overrides the pooling recorded in the model's `1_Pooling/config.json` (mean when there is none). */
  pooling?: Pooling;
}

export interface EncodeOptions {
  pooling?: Pooling;
  /** L2-normalise each vector (default true), so that dot product is cosine. */
  normalize?: boolean;
  batchSize?: number;
  maxLength?: number;
  onProgress?: (textsDone: number) => void;
}

/** One L2-normalised vector per kept token, for late interaction. */
export interface TokenEmbeddings {
  /** Token ids of the kept tokens, in order. */
  ids: number[];
  /** `count x dimension`, row-major. */
  vectors: Float32Array;
  count: number;
  dimension: number;
}

export interface EncodeTokensOptions {
  /** Drop [CLS] and [SEP] (default true); padding is always dropped. */
  dropSpecialTokens?: boolean;
  batchSize?: number;
  maxLength?: number;
}

/** A tokenizer that marks each text with a start and an end token: BERT's [CLS]/[SEP], RoBERTa's <s>/</s>. */
export type MarkedTokenizer = SequenceTokenizer & { readonly clsId: number; readonly sepId: number };

const isMarked = (tokenizer: SequenceTokenizer): tokenizer is MarkedTokenizer =>
  typeof (tokenizer as Partial<MarkedTokenizer>).clsId === 'number' && typeof (tokenizer as Partial<MarkedTokenizer>).sepId === 'number';

/** Embeds each text on its own (no interaction with the query), so document vectors can be computed ahead of time. */
export class BiEncoder implements SentenceEncoder {
  private constructor(
    readonly name: string,
    readonly folder: ModelFolder,
    readonly tokenizer: MarkedTokenizer,
    private readonly session: ort.InferenceSession,
    readonly maxLength: number,
    readonly pooling: Pooling,
  ) {}

  static async load(model: string, options: BiEncoderLoadOptions = {}): Promise<BiEncoder> {
    return BiEncoder.open(model, await loadBertModel(model, 'none', options), options);
  }

  /** A folder resolved once by resolveModel (loaders hand it on instead of the name). */
  static async fromFolder(folder: ModelFolder, options: BiEncoderLoadOptions = {}): Promise<BiEncoder> {
    return BiEncoder.open(folder.name, await openBertModel(folder, 'none', options), options);
  }

  private static async open(name: string, model: BertModel, options: BiEncoderLoadOptions): Promise<BiEncoder> {
    const { folder, tokenizer, session, maxLength } = model;
    if (!isMarked(tokenizer)) {
      await session.release();
      throw new InputError(`model "${name}": a ${folder.family.name} folder is loaded with loadSentenceEncoder, not BiEncoder`);
    }
    const pooling = options.pooling ?? (await recordedPooling(folder.dir));
    return new BiEncoder(name, folder, tokenizer, session, maxLength, pooling);
  }

  get dimension(): number {
    return this.folder.config.hidden_size;
  }

  async encode(texts: readonly string[], options: EncodeOptions = {}): Promise<Float32Array[]> {
    const pooling = options.pooling ?? this.pooling;
    if (pooling !== 'mean' && pooling !== 'cls') throw new InputError(`pooling: expected "mean" or "cls", got ${JSON.stringify(pooling)}`);
    const hidden = this.dimension;
    const out = new Array<Float32Array>(texts.length);
    let done = 0;
    await this.forEachHiddenBatch(texts, options, (states, batch, indices) => {
      const T = batch.sequenceLength;
      indices.forEach((textIndex, row) => {
        const vector = new Float32Array(hidden);
        if (pooling === 'cls') {
          vector.set(states.subarray(row * T * hidden, row * T * hidden + hidden));
        } else {
          let count = 0;
          for (let t = 0; t < T; t++) {
            if (batch.attentionMask[row * T + t] === 0n) continue;
            count++;
            const base = (row * T + t) * hidden;
            for (let h = 0; h < hidden; h++) vector[h] += states[base + h];
          }
          for (let h = 0; h < hidden; h++) vector[h] /= Math.max(count, 1);
        }
        out[textIndex] = options.normalize === false ? vector : l2normalize(vector);
      });
      done += indices.length;
      options.onProgress?.(done);
    });
    return out;
  }

  async encodeTokens(texts: readonly string[], options: EncodeTokensOptions = {}): Promise<TokenEmbeddings[]> {
    const dropSpecial = options.dropSpecialTokens ?? true;
    const hidden = this.dimension;
    const out = new Array<TokenEmbeddings>(texts.length);
    await this.forEachHiddenBatch(texts, options, (states, batch, indices) => {
      const T = batch.sequenceLength;
      indices.forEach((textIndex, row) => {
        const ids: number[] = [];
        const rows: number[] = [];
        for (let t = 0; t < T; t++) {
          if (batch.attentionMask[row * T + t] === 0n) continue;
          const id = Number(batch.inputIds[row * T + t]);
          if (dropSpecial && (id === this.tokenizer.clsId || id === this.tokenizer.sepId)) continue;
          ids.push(id);
          rows.push(t);
        }
        const vectors = new Float32Array(rows.length * hidden);
        rows.forEach((t, k) => {
          vectors.set(l2normalize(states.slice((row * T + t) * hidden, (row * T + t + 1) * hidden)), k * hidden);
        });
        out[textIndex] = { ids, vectors, count: rows.length, dimension: hidden };
      });
    });
    return out;
  }

  private async forEachHiddenBatch(
    texts: readonly string[],
    options: { batchSize?: number; maxLength?: number },
    consume: (states: Float32Array, batch: PaddedBatch, indices: number[]) => void,
  ): Promise<void> {
    const maxLength = options.maxLength ?? this.maxLength;
    if (!Number.isInteger(maxLength) || maxLength < 2 || maxLength > this.maxLength) {
      throw new InputError(`maxLength: expected an integer from 2 to ${this.maxLength}, got ${maxLength}`);
    }
    const encoded: Encoded[] = texts.map((text, i) => {
      if (typeof text !== 'string') throw new InputError(`texts[${i}]: expected a string`);
      return this.tokenizer.encodeSingle(text, { maxLength });
    });
    const batchSize = options.batchSize ?? 32;
    await forEachBatch(this.tokenizer, encoded, { maxBatchSize: batchSize, maxBatchTokens: batchSize * maxLength }, async (batch, indices) => {
      const output = await runBertBatch(this.session, batch);
      consume(output.last_hidden_state.data as Float32Array, batch, indices);
      output.last_hidden_state.dispose?.();
    });
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
