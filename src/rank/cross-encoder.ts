import { numLabels, type BertConfig } from '../models/config.js';
import { sigmoid } from '../util/math.js';
import { forEachBatch } from '../models/batching.js';
import { openBertModel, type BertModelLoadOptions } from '../models/bert-model.js';
import { resolveModel, type ModelFolder } from '../models/model-folder.js';
import { builtInModelFolder, crossEncoderFolderOf, isShippedModelName } from '../models/shipped-model.js';
import type { Encoded, SequenceTokenizer } from '../models/tokenizer/index.js';
import type { DocumentInput } from '../documents.js';
import { checkRankInput, rankByScores, type RankedResults, type Ranker, type RankOptions } from './results.js';
import { OnnxScorer, type Scorer } from './scorer.js';
import { InputError } from '../errors.js';

export type Activation = 'sigmoid' | 'softmax' | 'none';

export interface CrossEncoderLoadOptions extends BertModelLoadOptions {
  /** Name shown in results and tables (default: the folder or hub id). */
  name?: string;
}

/** How logits become scores. */
export interface ScoreOptions {
  /** Applied to the logits; the model's own activation by default (sigmoid for one-logit models). */
  activation?: Activation;
  /** For models with several labels: which logit is the relevance score (default the last). */
  label?: number;
}

export interface BatchOptions {
  /** Pairs per model call (default 32). Pairs are sorted by length first, so batches carry little padding. */
  batchSize?: number;
  /** Tokens per model call, padding included (default batchSize x maxLength). */
  maxBatchTokens?: number;
  maxLength?: number;
  /** Called after each model call with the number of sequences scored so far (windows, in `chunk` mode). */
  onProgress?: (sequencesDone: number) => void;
}

export interface PredictOptions extends ScoreOptions, BatchOptions {
  /**
   * `truncate` cuts the document to fit; `chunk` scores overlapping windows of it and keeps the best window's score,
   * so a relevant passage late in a long document still counts.
   */
  longDocuments?: 'truncate' | 'chunk';
  /** Tokens shared by consecutive windows in `chunk` mode (default a quarter of the window). */
  overlap?: number;
}

export type CrossEncoderRankOptions = RankOptions & PredictOptions;

/** How each document of {@link CrossEncoder.encodeDocuments} is fitted to the model's length. */
export interface DocumentFit {
  /** false: a pair longer than the model's maximum is a {@link TextFieldError} instead of being cut (default true). */
  truncate?: boolean;
  /** Keep at most this many tokens of each document before pairing. */
  maxTokensPerDocument?: number;
  /** The documents' field name in errors: `documents[3]` (default `documents`). */
  field?: string;
}

/** A text that cannot be scored as given; `field` names it (`query`, `documents[3]`). */
export class TextFieldError extends InputError {
  declare readonly field: string;

  constructor(
    message: string,
    field: string,
    /** `too-long`: the pair exceeds the model's length and truncation was not allowed. */
    readonly reason: 'too-long' | 'untokenizable',
  ) {
    super(message, { field });
  }
}

/** The part of a model's config.json that says how its logits become scores. */
export type LabelConfig = Pick<BertConfig, 'id2label' | 'num_labels' | 'sentence_transformers'>;

/** What a cross-encoder is made of: a tokenizer, a backend that scores padded batches, and the model's config. */
export interface CrossEncoderParts {
  name: string;
  tokenizer: SequenceTokenizer;
  scorer: Scorer;
  /** Longest sequence in tokens. */
  maxLength: number;
  /** Labels (`id2label`/`num_labels`) and the recorded activation (`sentence_transformers.activation_fn`). */
  config: LabelConfig;
  /** The model folder an ONNX cross-encoder was loaded from. */
  folder?: ModelFolder;
}

/**
 * Reads a query and a document together in one transformer pass, `[CLS] query [SEP] document [SEP]`, and returns
 * their relevance. Slower than a bi-encoder but sees how the words of the two interact. Every way of scoring with a
 * cross-encoder (rank, the server, evaluation during training) goes through this class; only the {@link Scorer}
 * underneath differs.
 */
export class CrossEncoder implements Ranker {
  readonly name: string;
  readonly tokenizer: SequenceTokenizer;
  readonly maxLength: number;
  readonly config: LabelConfig;
  readonly folder: ModelFolder | undefined;
  /** Logits per sequence. */
  readonly labels: number;
  /** The activation the model was trained with: sentence-transformers records it; one-logit models use sigmoid. */
  readonly defaultActivation: Activation;
  private readonly scorer: Scorer;

  constructor(parts: CrossEncoderParts) {
    this.name = parts.name;
    this.tokenizer = parts.tokenizer;
    this.scorer = parts.scorer;
    this.maxLength = parts.maxLength;
    this.config = parts.config;
    this.folder = parts.folder;
    // numLabels reads only the label fields.
    this.labels = numLabels(parts.config as BertConfig);
    this.defaultActivation = activationOf(parts.config);
  }

  /**
   * `model`: a model folder, a hub id, or `default` - the built-in reranker that ships in the package (made runnable in
   * the model cache on first use; for a hybrid built-in, its cross-encoder).
   */
  static async load(model: string, options: CrossEncoderLoadOptions = {}): Promise<CrossEncoder> {
    const path = isShippedModelName(model) ? await crossEncoderFolderOf(await builtInModelFolder(model, { cacheDir: options.cacheDir })) : model;
    return CrossEncoder.fromFolder(await resolveModel(path, options), { ...options, name: options.name ?? model });
  }

  /** A folder resolved once by resolveModel: loaders that already resolved a name hand the folder on. */
  static async fromFolder(folder: ModelFolder, options: CrossEncoderLoadOptions = {}): Promise<CrossEncoder> {
    const { tokenizer, session, maxLength } = await openBertModel(folder, 'sequence-classification', options);
    return new CrossEncoder({ name: options.name ?? folder.name, folder, tokenizer, scorer: new OnnxScorer(session), maxLength, config: folder.config });
  }

  /** One score per (query, document) pair, in input order. */
  async predict(pairs: ReadonlyArray<readonly [string, string]>, options: PredictOptions = {}): Promise<Float32Array> {
    const maxLength = options.maxLength ?? this.maxLength;
    if (!Number.isInteger(maxLength) || maxLength < 4 || maxLength > this.maxLength) {
      throw new InputError(`maxLength: expected an integer from 4 to ${this.maxLength}, got ${maxLength}`);
    }
    this.checkLabel(options.label);
    const { sequences, owner } = this.encodePairs(pairs, maxLength, options);
    const sequenceScores = await this.scoreEncoded(sequences, { ...options, maxLength });
    const best = new Float32Array(pairs.length).fill(-Infinity);
    sequenceScores.forEach((score, sequence) => {
      if (score > best[owner[sequence]]) best[owner[sequence]] = score;
    });
    return best;
  }

  /**
   * One query paired with each document, tokenizing the query once: the sequences {@link logits} and
   * {@link scoreEncoded} take. Errors name the text at fault.
   */
  encodeDocuments(query: string, documents: readonly string[], fit: DocumentFit = {}): Encoded[] {
    const field = fit.field ?? 'documents';
    const queryIds = this.tokenIds('query', query);
    return documents.map((document, i) => {
      let docIds = this.tokenIds(`${field}[${i}]`, document);
      if (fit.maxTokensPerDocument !== undefined && docIds.length > fit.maxTokensPerDocument) docIds = docIds.slice(0, fit.maxTokensPerDocument);
      // The family's pair layout decides the special tokens (BERT adds 3, RoBERTa 4): measure the uncut pair.
      const length = fit.truncate === false ? this.tokenizer.pairFromIds(queryIds, docIds, Number.MAX_SAFE_INTEGER).inputIds.length : 0;
      if (fit.truncate === false && length > this.maxLength) {
        const message = `${field}[${i}]: the query and this text are ${length} tokens, more than the model's ${this.maxLength}; send "truncate": true to cut it`;
        throw new TextFieldError(message, `${field}[${i}]`, 'too-long');
      }
      return this.tokenizer.pairFromIds(queryIds, docIds, this.maxLength);
    });
  }

  /** The logits of already-tokenized sequences, one row of {@link labels} per sequence, in input order. */
  async logits(sequences: readonly Encoded[], options: BatchOptions = {}): Promise<Float32Array[]> {
    const batchSize = options.batchSize ?? 32;
    const maxLength = options.maxLength ?? this.maxLength;
    const rows = new Array<Float32Array>(sequences.length);
    let done = 0;
    await forEachBatch(
      this.tokenizer,
      sequences,
      { maxBatchSize: batchSize, maxBatchTokens: options.maxBatchTokens ?? batchSize * maxLength },
      async (batch, indices) => {
        // A graph with fewer logits than config.json's labels leaves rows short, so scores come out NaN: the
        // server's load-time probe reports that with the label count.
        const logits = await this.scorer.logits(batch);
        indices.forEach((sequence, row) => (rows[sequence] = logits.subarray(row * this.labels, (row + 1) * this.labels)));
      },
      (count) => {
        done += count;
        options.onProgress?.(done);
      },
    );
    return rows;
  }

  /** Each row of logits as one score: the chosen label's logit through the activation (the model's by default). */
  scores(rows: readonly Float32Array[], options: ScoreOptions = {}): Float32Array {
    const label = this.checkLabel(options.label);
    const activation = options.activation ?? this.defaultActivation;
    return Float32Array.from(rows, (row) => applyActivation(row, label, activation));
  }

  /** Scores already-tokenized sequences (one per entry, input order); `predict` is this plus tokenization and pooling. */
  async scoreEncoded(sequences: readonly Encoded[], options: BatchOptions & ScoreOptions = {}): Promise<Float32Array> {
    this.checkLabel(options.label);
    return this.scores(await this.logits(sequences, options), options);
  }

  /** Scores every document against the query and returns them best first, each with its original index. */
  async rank(query: string, inputs: readonly DocumentInput[], options: CrossEncoderRankOptions = {}): Promise<RankedResults> {
    const documents = checkRankInput(query, inputs, options);
    const scores = await this.predict(
      documents.map((d) => [query, d.text] as const),
      options,
    );
    return rankByScores(query, documents, scores, this.name, options);
  }

  async dispose(): Promise<void> {
    await this.scorer.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  /**
   * A document as the overlapping windows `longDocuments: 'chunk'` scores, each paired with the query (one window when
   * it fits); the overlap defaults to a quarter of the length.
   */
  encodeWindows(query: string, document: string, options: { maxLength?: number; overlap?: number } = {}): Encoded[] {
    const maxLength = options.maxLength ?? this.maxLength;
    return this.tokenizer.encodePairWindows(query, document, { maxLength, overlap: options.overlap ?? Math.floor(maxLength / 4) });
  }

  /** Every window of every pair is one sequence; `owner` maps it back to its pair. */
  private encodePairs(pairs: ReadonlyArray<readonly [string, string]>, maxLength: number, options: PredictOptions): { sequences: Encoded[]; owner: number[] } {
    const sequences: Encoded[] = [];
    const owner: number[] = [];
    pairs.forEach(([query, doc], i) => {
      if (typeof query !== 'string' || typeof doc !== 'string') {
        throw new InputError(`pairs[${i}]: expected [query, document] strings`);
      }
      if (options.longDocuments === 'chunk') {
        for (const window of this.encodeWindows(query, doc, { maxLength, overlap: options.overlap })) {
          sequences.push(window);
          owner.push(i);
        }
      } else {
        sequences.push(this.tokenizer.encodePair(query, doc, { maxLength }));
        owner.push(i);
      }
    });
    return { sequences, owner };
  }

  private tokenIds(field: string, text: string): number[] {
    try {
      return this.tokenizer.tokenIds(text);
    } catch (error) {
      throw new TextFieldError(`${field}: cannot be tokenized (${(error as Error).message})`, field, 'untokenizable');
    }
  }

  private checkLabel(requested: number | undefined): number {
    const label = requested ?? this.labels - 1;
    if (!Number.isInteger(label) || label < 0 || label >= this.labels) {
      throw new InputError(`label: expected an integer from 0 to ${this.labels - 1}, got ${label}`);
    }
    return label;
  }
}

/** The activation of one-logit rerankers: a logit as a probability of relevance. */
export { sigmoid };

/** The activation a model's config records (sentence-transformers' `activation_fn`), else by its number of labels. */
export function activationOf(config: LabelConfig): Activation {
  const recorded = config.sentence_transformers?.activation_fn ?? '';
  if (/Identity$/.test(recorded)) return 'none';
  if (/Sigmoid$/.test(recorded)) return 'sigmoid';
  if (/Softmax$/.test(recorded)) return 'softmax';
  return numLabels(config as BertConfig) === 1 ? 'sigmoid' : 'softmax';
}

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
