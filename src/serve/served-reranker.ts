import type { ModelLoadOptions } from './served-embedder.js';
import type { Encoded } from '../models/tokenizer/index.js';
import { checkCrossEncoderOnnx } from '../models/check-model.js';
import { builtInModelFolder } from '../models/shipped-model.js';
import { CrossEncoder, sigmoid, TextFieldError, type DocumentFit } from '../rank/cross-encoder.js';
import { readHybridConfig } from '../rank/hybrid-ranker.js';
import { DEFAULT_RERANKER, loadRanker } from '../rank/load-ranker.js';
import { scoresOf, type Ranker } from '../rank/results.js';
import { RequestBatcher, type BatcherOptions } from './batcher.js';
import { HttpError, withTimeout } from './http-errors.js';
import { ModelInvalidError } from '../errors.js';

/** A request's scores, one per document in input order. */
export interface ServedScores {
  /** The relevance each route reports and orders by: exactly what `rank()` gives for the same model. */
  relevance: ArrayLike<number>;
  /** Before the activation: the chosen label's logit (TEI's `raw_scores`); a hybrid model's own score. */
  raw: ArrayLike<number>;
  /**
   * What fusion in /search mixes and how each becomes a relevance: logits and the model's element-wise activation
   * where it has one, else the relevance itself (a softmax needs every label's logit).
   */
  fusable: { scores: ArrayLike<number>; relevance: (score: number) => number };
  /**
   * Tokens the model read for the request: every (query, document) pair or chunk scored, special tokens included.
   * Undefined for a model other than a cross-encoder (a hybrid model has no one tokenizer).
   */
  tokens?: number;
}

/** How a request's documents are fitted to the model; `field` names the documents in errors. */
export interface ServedFit extends DocumentFit {
  field: string;
  /**
   * Split a document that does not fit into the overlapping windows of `rank()`'s `longDocuments: 'chunk'`, score
   * its first `maxChunksPerDocument` windows and keep the best one's score. Only a cross-encoder can (see `chunks`).
   */
  maxChunksPerDocument?: number;
}

/**
 * The reranking model a server runs: a cross-encoder whose logits come through one cross-request batcher and whose
 * scores come from the very {@link CrossEncoder} that `rank()` uses, or any other Ranker (a hybrid model), whose scores
 * are already what the routes report.
 */
export class ServedReranker {
  private constructor(
    private readonly model: { kind: 'cross-encoder'; crossEncoder: CrossEncoder; batcher: RequestBatcher<Encoded, Float32Array> } | { kind: 'ranker'; ranker: Ranker },
    private readonly requestTimeoutMs: number,
  ) {}

  /** Loads `model` and checks that it scores one pair before the server listens. */
  static async load(model: string, load: ModelLoadOptions, batching: BatcherOptions & { requestTimeoutMs: number }): Promise<ServedReranker> {
    // The built-in reranker ships in the package; its first load makes it runnable in the model cache (no training).
    const path = model === DEFAULT_RERANKER ? await builtInModelFolder(DEFAULT_RERANKER) : model;
    let served: ServedReranker;
    if (await readHybridConfig(path)) served = new ServedReranker({ kind: 'ranker', ranker: await loadRanker(path, load) }, batching.requestTimeoutMs);
    else {
      const crossEncoder = await CrossEncoder.load(path, { ...load, name: model });
      const batcher = new RequestBatcher<Encoded, Float32Array>(
        // Only the token budget bounds a model call; logits() length-sorts, so padding stays small.
        (sequences, maxBatchTokens) => crossEncoder.logits(sequences, { batchSize: sequences.length, maxBatchTokens }),
        (sequence) => sequence.inputIds.length,
        batching,
      );
      served = new ServedReranker({ kind: 'cross-encoder', crossEncoder, batcher }, batching.requestTimeoutMs);
    }
    try {
      // A model that loads is not yet one that scores: check the graph, then score one pair, before listening.
      if (served.model.kind === 'cross-encoder' && served.model.crossEncoder.folder) checkCrossEncoderOnnx(served.model.crossEncoder.folder.onnxPath);
      await served.probe();
    } catch (error) {
      await served.dispose();
      throw error;
    }
    return served;
  }

  /** Whether `maxChunksPerDocument` has an effect: a cross-encoder's windows; a hybrid model scores whole texts. */
  get chunks(): boolean {
    return this.model.kind === 'cross-encoder';
  }

  /** Requests waiting for the model or in the model call now running. */
  get depth(): number {
    return this.model.kind === 'cross-encoder' ? this.model.batcher.depth : 0;
  }

  /**
   * Scores `documents` against `query` (already checked against the request limits). `fit.field` names the documents
   * in errors: a text that does not fit is 413, one that cannot be tokenized 400.
   */
  async score(query: string, documents: readonly string[], fit: ServedFit): Promise<ServedScores> {
    if (this.model.kind === 'ranker') {
      const scores = await withTimeout(scoresOf(this.model.ranker, query, documents), () => false, this.requestTimeoutMs);
      return { relevance: scores, raw: scores, fusable: { scores, relevance: (score) => score } };
    }
    const { crossEncoder, batcher } = this.model;
    const { sequences, owner } = encodeOrHttpError(crossEncoder, query, documents, fit);
    const submitted = batcher.submit(sequences);
    const windows = await withTimeout(submitted.results, submitted.cancel, this.requestTimeoutMs);
    const rows = owner ? bestWindows(crossEncoder, windows, owner, documents.length) : windows;
    const relevance = crossEncoder.scores(rows);
    const raw = crossEncoder.scores(rows, { activation: 'none' });
    const elementwise = ELEMENTWISE[crossEncoder.defaultActivation];
    const tokens = sequences.reduce((sum, sequence) => sum + sequence.inputIds.length, 0);
    return { relevance, raw, fusable: elementwise ? { scores: raw, relevance: elementwise } : { scores: relevance, relevance: (score) => score }, tokens };
  }

  /**
   * Scores one short pair, straight through the model (not the queue), and checks that a finite score comes back: the
   * graph runs with the inputs we feed, and its logits agree with the labels config.json declares. The error names
   * the model file.
   */
  async probe(): Promise<void> {
    const { model } = this;
    const path = model.kind === 'cross-encoder' ? (model.crossEncoder.folder?.onnxPath ?? model.crossEncoder.name) : model.ranker.name;
    let scores: ArrayLike<number>;
    try {
      scores =
        model.kind === 'cross-encoder'
          ? await model.crossEncoder.predict([['rankwise health check', 'a short document to score']], { activation: 'none' })
          : await scoresOf(model.ranker, 'rankwise health check', ['a short document to score']);
    } catch (error) {
      throw new ModelInvalidError(`${path}: scoring one test pair failed (${(error as Error).message})`);
    }
    if (scores.length !== 1 || !Number.isFinite(scores[0])) {
      const labels = model.kind === 'cross-encoder' ? ` (config.json declares ${model.crossEncoder.labels} label(s): does the graph's "logits" output have as many?)` : '';
      throw new ModelInvalidError(`${path}: scoring one test pair gave ${scores[0]}, expected a finite number${labels}`);
    }
  }

  /** Refuses new work and waits for the requests already accepted. */
  async close(): Promise<void> {
    if (this.model.kind === 'cross-encoder') await this.model.batcher.close();
  }

  async dispose(): Promise<void> {
    await (this.model.kind === 'cross-encoder' ? this.model.crossEncoder.dispose() : this.model.ranker.dispose());
  }
}

/** Activations that map each logit on its own, so a logit can be fused first and mapped after. */
const ELEMENTWISE: Partial<Record<CrossEncoder['defaultActivation'], (x: number) => number>> = { sigmoid, none: (x) => x };

/** The sequences to score; with chunking, several per document and `owner` maps each back to its document. */
function encodeOrHttpError(crossEncoder: CrossEncoder, query: string, documents: readonly string[], fit: ServedFit): { sequences: Encoded[]; owner?: number[] } {
  try {
    if (fit.maxChunksPerDocument === undefined) return { sequences: crossEncoder.encodeDocuments(query, documents, fit) };
    return encodeChunks(crossEncoder, query, documents, fit.field, fit.maxChunksPerDocument);
  } catch (error) {
    if (!(error instanceof TextFieldError)) throw error;
    throw new HttpError(error.reason === 'too-long' ? 413 : 400, error.message, error.field);
  }
}

/**
 * Each document as the windows `rank()` scores with `longDocuments: 'chunk'` (same overlap, so enough chunks give
 * exactly its scores), keeping the first `maxChunks`. A document that fits is one window, its usual pair.
 */
function encodeChunks(crossEncoder: CrossEncoder, query: string, documents: readonly string[], field: string, maxChunks: number): { sequences: Encoded[]; owner: number[] } {
  // Tokenizes the query alone, so that a query the tokenizer refuses is blamed on `query`, not on a document.
  crossEncoder.encodeDocuments(query, [], { field });
  const sequences: Encoded[] = [];
  const owner: number[] = [];
  documents.forEach((document, i) => {
    let windows: Encoded[];
    try {
      windows = crossEncoder.encodeWindows(query, document);
    } catch (error) {
      throw new TextFieldError(`${field}[${i}]: cannot be tokenized (${(error as Error).message})`, `${field}[${i}]`, 'untokenizable');
    }
    for (const window of windows.slice(0, maxChunks)) {
      sequences.push(window);
      owner.push(i);
    }
  });
  return { sequences, owner };
}

/** Each document's best window (by the model's relevance; the first on ties), as `rank()`'s chunk mode keeps it. */
function bestWindows(crossEncoder: CrossEncoder, windows: readonly Float32Array[], owner: readonly number[], documents: number): Float32Array[] {
  const scores = crossEncoder.scores(windows);
  const best = new Array<number>(documents).fill(-1);
  owner.forEach((document, window) => {
    if (best[document] < 0 || scores[window] > scores[best[document]]) best[document] = window;
  });
  return best.map((window) => windows[window]);
}
