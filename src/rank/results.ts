import { toDocuments, type Document, type DocumentInput } from '../documents.js';
import { InputError } from '../errors.js';
import type { DisposableResource } from '../util/disposable.js';
import { checkFusionOptions, fuseScores, scoresFromOrder, type FusionOptions } from './fusion.js';

/** A document as a result returns it: its id and metadata always, its text unless `returnDocuments` is false. */
export type ResultDocument = Omit<Document, 'text'> & { text?: string };

/** One ranked document: the caller's document, where it was in the input, where it is now, and why. */
export interface RankedResult {
  /** The document as given (a string input gets its position as id: `"0"`, `"1"`, ...). */
  document: ResultDocument;
  /** Position of the document in the caller's input (0-based). */
  index: number;
  /** Position after ranking (1-based). */
  rank: number;
  /** The ranker's score, or the fused score when `fuse` was given. */
  score: number;
  /** With `fuse`: the ranker's own score before fusion. */
  rankerScore?: number;
}

export interface RankedResults {
  query: string;
  /** Highest score first; ties keep input order. */
  results: RankedResult[];
  /** Name of the model or backend that scored them. */
  model: string;
}

export interface RankOptions {
  /** Keep only the best `topK` results. */
  topK?: number;
  /** Include each document's text in its result (default true); ids and metadata are always returned. */
  returnDocuments?: boolean;
  /**
   * Fuse the ranker's scores with the first stage's (reciprocal rank or a standardised linear mix), so that a weak
   * ranker cannot undo a good first stage. `firstStageScores[i]` scores `documents[i]` (higher is better); without
   * them the input order is taken as the first stage's ranking.
   */
  fuse?: FusionOptions & { firstStageScores?: readonly number[] };
  /** Aborts a ranker that calls out (an LLM); local models finish the call. */
  signal?: AbortSignal;
}

/** Anything that can order documents for a query: a cross-encoder, a bi-encoder, late interaction, an LLM. */
export interface Ranker extends DisposableResource {
  readonly name: string;
  /** `documents`: texts, or `{id?, text, metadata?}` objects that come back in each result. */
  rank(query: string, documents: readonly DocumentInput[], options?: RankOptions): Promise<RankedResults>;
}

/**
 * Checks a `rank` call and returns its documents normalised (ids as strings, unique): the one place every ranker
 * validates its input, so each error names the same field whichever ranker is called.
 */
export function checkRankInput(query: unknown, documents: unknown, options: RankOptions = {}): Document[] {
  if (typeof query !== 'string' || query.trim() === '') throw new InputError('query: expected a non-empty string');
  const normalised = toDocuments(documents as readonly DocumentInput[]);
  if (options.topK !== undefined && (!Number.isInteger(options.topK) || options.topK < 1)) {
    throw new InputError(`topK: expected a positive integer, got ${options.topK}`);
  }
  if (options.fuse !== undefined) {
    checkFusionOptions(options.fuse);
    const given = options.fuse.firstStageScores;
    if (given !== undefined && (!Array.isArray(given) || given.length !== normalised.length)) {
      throw new InputError(`fuse.firstStageScores: expected one number per document (${normalised.length}), got ${Array.isArray(given) ? given.length : typeof given}`);
    }
  }
  return normalised;
}

/** Orders documents by score, highest first, stable on ties. */
export function rankByScores(
  query: string,
  documents: readonly Document[] | readonly string[],
  scores: ArrayLike<number>,
  model: string,
  options: RankOptions = {},
): RankedResults {
  const rankerScores = scores;
  if (options.fuse) scores = fuseScores(options.fuse.firstStageScores ?? scoresFromOrder(documents.length), rankerScores, options.fuse);
  const order = Array.from({ length: documents.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  return resultsInOrder(query, documents, order, (index) => scores[index], model, {
    ...options,
    rankerScore: options.fuse ? (index) => rankerScores[index] : undefined,
  });
}

/**
 * The results of a ranking decided elsewhere (by scores, or by an LLM's permutation): `order` lists input positions
 * best first; `topK` and `returnDocuments` apply here so every ranker treats them the same.
 */
export function resultsInOrder(
  query: string,
  documents: readonly Document[] | readonly string[],
  order: readonly number[],
  scoreOf: (index: number, position: number) => number,
  model: string,
  options: RankOptions & { rankerScore?: (index: number) => number } = {},
): RankedResults {
  const normalised = typeof documents[0] === 'string' ? toDocuments(documents as readonly string[]) : (documents as readonly Document[]);
  const kept = options.topK === undefined ? order : order.slice(0, options.topK);
  const withText = options.returnDocuments ?? true;
  return {
    query,
    model,
    results: kept.map((index, position) => ({
      document: withText ? normalised[index] : withoutText(normalised[index]),
      index,
      rank: position + 1,
      score: scoreOf(index, position),
      ...(options.rankerScore ? { rankerScore: options.rankerScore(index) } : {}),
    })),
  };
}

function withoutText({ id, metadata }: Document): ResultDocument {
  return metadata ? { id, metadata } : { id };
}

/** The best `k` results (they are already best first), like rerankers' `RankedResults.top_k`. */
export function topResults(ranked: RankedResults, k: number): RankedResult[] {
  if (!Number.isInteger(k) || k < 1) throw new InputError(`k: expected a positive integer, got ${k}`);
  return ranked.results.slice(0, k);
}

/** The result of the document with this id, if it was kept. */
export function resultById(ranked: RankedResults, id: string | number): RankedResult | undefined {
  const key = String(id);
  return ranked.results.find((r) => r.document.id === key);
}

/** A ranker's scores back in input order: `scores[i]` is the score of `documents[i]`. */
export async function scoresOf(ranker: Ranker, query: string, documents: readonly DocumentInput[]): Promise<number[]> {
  const ranked = await ranker.rank(query, documents, { returnDocuments: false });
  const scores = new Array<number>(documents.length);
  for (const r of ranked.results) scores[r.index] = r.score;
  return scores;
}
