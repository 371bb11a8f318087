import { numLabels, type BertConfig } from '../models/config.js';
import { sigmoid } from '../util/math.js';
import { forEachBatch } from '../models/batching.js';
import { loadBertModel, runBertBatch, type BertModelLoadOptions } from '../models/bert-model.js';
import type { ModelFolder } from '../models/model-folder.js';
import { builtInModelFolder, crossEncoderFolderOf, isShippedModelName } from '../models/shipped-model.js';
import type { ort } from '../models/session.js';
import type { Encoded, SequenceTokenizer } from '../models/tokenizer.js';
import { checkRankInput, rankByScores, type RankedResults, type Ranker, type RankOptions } from './results.js';

export type Activation = 'sigmoid' | 'softmax' | 'none';

export interface CrossEncoderLoadOptions extends BertModelLoadOptions {
  /** Name shown in results and tables (default: the folder or hub id). */
  name?: string;
}

export interface PredictOptions {
  /** Pairs per model call (default 32). Pairs are sorted by length first, so batches carry little padding. */
  batchSize?: number;
  /** Tokens per model call, padding included (default batchSize x maxLength). */
  maxBatchTokens?: number;
  maxLength?: number;
  /** Applied to the logits; the model's own activation by default (sigmoid for one-logit models). */
  activation?: Activation;
  /**
   * `truncate` cuts the document to fit; `chunk` scores overlapping windows of it and keeps the best window's score,
   * so a relevant passage late in a long document still counts.
   */
  longDocuments?: 'truncate' | 'chunk';
  /** Tokens shared by consecutive windows in `chunk` mode (default a quarter of the window). */
  overlap?: number;
  /** For models with several labels: which logit is the relevance score (default the last). */
  label?: number;
  /** Called after each model call with the number of sequences scored so far (windows, in `chunk` mode). */
  onProgress?: (sequencesDone: number) => void;
}

export type CrossEncoderRankOptions = RankOptions & PredictOptions;

/**
 * Reads a query and a document together in one transformer pass, `[CLS] query [SEP] document [SEP]`, and returns
 * their relevance. Slower than a bi-encoder but sees how the words of the two interact.
 */
export class CrossEncoder implements Ranker {
  private constructor(
    readonly name: string,
    readonly folder: ModelFolder,
    readonly tokenizer: SequenceTokenizer,
    private readonly session: ort.InferenceSession,
    readonly maxLength: number,
  ) {}

  /**
   * `model`: a model folder, a hub id, or `default` - the built-in reranker that ships in the package (made runnable in
   * the model cache on first use; for a hybrid built-in, its cross-encoder).
   */
  static async load(model: string, options: CrossEncoderLoadOptions = {}): Promise<CrossEncoder> {
    const path = isShippedModelName(model) ? await crossEncoderFolderOf(await builtInModelFolder(model, { cacheDir: options.cacheDir })) : model;
    const { folder, tokenizer, session, maxLength } = await loadBertModel(path, 'sequence-classification', options);
    return new CrossEncoder(options.name ?? model, folder, tokenizer, session, maxLength);
  }

  get config(): BertConfig {
    return this.folder.config;
  }

  /** The activation the model was trained with: sentence-transformers records it; one-logit models use sigmoid. */
  get defaultActivation(): Activation {
    const recorded = this.config.sentence_transformers?.activation_fn ?? '';
    if (/Identity$/.test(recorded)) return 'none';
    if (/Sigmoid$/.test(recorded)) return 'sigmoid';
    if (/Softmax$/.test(recorded)) return 'softmax';
    return numLabels(this.config) === 1 ? 'sigmoid' : 'softmax';
  }

  /** One score per (query, document) pair, in input order. */
  async predict(pairs: ReadonlyArray<readonly [string, string]>, options: PredictOptions = {}): Promise<Float32Array> {
    const maxLength = options.maxLength ?? this.maxLength;
    if (!Number.isInteger(maxLength) || maxLength < 4 || maxLength > this.maxLength) {
      throw new Error(`maxLength: expected an integer from 4 to ${this.maxLength}, got ${maxLength}`);
    }
    const activation = options.activation ?? this.defaultActivation;
    const labels = numLabels(this.config);
    const label = options.label ?? labels - 1;
    if (!Number.isInteger(label) || label < 0 || label >= labels) {
      throw new Error(`label: expected an integer from 0 to ${labels - 1}, got ${label}`);
    }

    // Every window of every pair is one sequence; `owner` maps it back to its pair.
    const sequences: Encoded[] = [];
    const owner: number[] = [];
    pairs.forEach(([query, doc], i) => {
      if (typeof query !== 'string' || typeof doc !== 'string') {
        throw new Error(`pairs[${i}]: expected [query, document] strings`);
      }
      if (options.longDocuments === 'chunk') {
        const overlap = options.overlap ?? Math.floor(maxLength / 4);
        for (const window of this.tokenizer.encodePairWindows(query, doc, { maxLength, overlap })) {
          sequences.push(window);
          owner.push(i);
        }
      } else {
        sequences.push(this.tokenizer.encodePair(query, doc, { maxLength }));
        owner.push(i);
      }
    });

    const sequenceScores = await this.scoreEncoded(sequences, { ...options, activation, label, maxLength });
    const best = new Float32Array(pairs.length).fill(-Infinity);
    sequenceScores.forEach((score, sequence) => {
      if (score > best[owner[sequence]]) best[owner[sequence]] = score;
    });
    return best;
  }

  /** Scores already-tokenized sequences (one per entry, input order); `predict` is this plus tokenization and pooling. */
  async scoreEncoded(sequences: readonly Encoded[], options: PredictOptions = {}): Promise<Float32Array> {
    const batchSize = options.batchSize ?? 32;
    const activation = options.activation ?? this.defaultActivation;
    const labels = numLabels(this.config);
    const label = options.label ?? labels - 1;
    const maxLength = options.maxLength ?? this.maxLength;
    const scores = new Float32Array(sequences.length);
    let done = 0;
    await forEachBatch(
      this.tokenizer,
      sequences,
      { maxBatchSize: batchSize, maxBatchTokens: options.maxBatchTokens ?? batchSize * maxLength },
      async (batch, indices) => {
        const output = await runBertBatch(this.session, batch);
        const logits = output.logits.data as Float32Array;
        indices.forEach((sequence, row) => {
          scores[sequence] = applyActivation(logits.subarray(row * labels, (row + 1) * labels), label, activation);
        });
        output.logits.dispose?.();
      },
      (count) => {
        done += count;
        options.onProgress?.(done);
      },
    );
    return scores;
  }

  /** Scores every document against the query and returns them best first, each with its original index. */
  async rank(query: string, documents: readonly string[], options: CrossEncoderRankOptions = {}): Promise<RankedResults> {
    checkRankInput(query, documents, options);
    const scores = await this.predict(
      documents.map((d) => [query, d] as const),
      options,
    );
    return rankByScores(query, documents, scores, this.name, options);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** The activation of one-logit rerankers: a logit as a probability of relevance. */
export { sigmoid };

function applyActivation(logits: Float32Array, label: number, activation: Activation): number {
  const x = logits[label];
  if (activation === 'none') return x;
  if (activation === 'sigmoid') return sigmoid(x);
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  return Math.exp(x - max) / sum;
}
