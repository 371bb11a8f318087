import { checkFusionOptions, fuseScores, scoresFromOrder, type FusionOptions } from './fusion.js';

/** One ranked document: where it was in the input, where it is now, and why. */
export interface RankedResult {
  /** Position of the document in the caller's input (0-based). */
  index: number;
  /** Position after ranking (1-based). */
  rank: number;
  /** The ranker's score, or the fused score when `fuse` was given. */
  score: number;
  /** With `fuse`: the ranker's own score before fusion. */
  rankerScore?: number;
  /** The document text, when `returnDocuments` is on. */
  document?: string;
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
  /** Include each document's text in its result (default true). */
  returnDocuments?: boolean;
  /**
   * Fuse the ranker's scores with the first stage's (reciprocal rank or a standardised linear mix), so that a weak
   * ranker cannot undo a good first stage. `firstStageScores[i]` scores `documents[i]` (higher is better); without
   * them the input order is taken as the first stage's ranking.
   */
  fuse?: FusionOptions & { firstStageScores?: readonly number[] };
}

/** Anything that can order documents for a query: a cross-encoder, a bi-encoder, later an LLM. */
export interface Ranker {
  readonly name: string;
  rank(query: string, documents: readonly string[], options?: RankOptions): Promise<RankedResults>;
  dispose?(): Promise<void>;
}

export function checkRankInput(query: unknown, documents: unknown, options: RankOptions = {}): void {
  if (typeof query !== 'string' || query.trim() === '') throw new Error('query: expected a non-empty string');
  if (!Array.isArray(documents)) throw new Error('documents: expected an array of strings');
  documents.forEach((d, i) => {
    if (typeof d !== 'string') throw new Error(`documents[${i}]: expected a string, got ${d === null ? 'null' : typeof d}`);
  });
  if (options.topK !== undefined && (!Number.isInteger(options.topK) || options.topK < 1)) {
    throw new Error(`topK: expected a positive integer, got ${options.topK}`);
  }
  if (options.fuse !== undefined) {
    checkFusionOptions(options.fuse);
    const given = options.fuse.firstStageScores;
    if (given !== undefined && (!Array.isArray(given) || given.length !== documents.length)) {
      throw new Error(`fuse.firstStageScores: expected one number per document (${documents.length}), got ${Array.isArray(given) ? given.length : typeof given}`);
    }
  }
}

/** Orders documents by score, highest first, stable on ties. */
export function rankByScores(
  query: string,
  documents: readonly string[],
  scores: ArrayLike<number>,
  model: string,
  options: RankOptions = {},
): RankedResults {
  const rankerScores = scores;
  if (options.fuse) scores = fuseScores(options.fuse.firstStageScores ?? scoresFromOrder(documents.length), rankerScores, options.fuse);
  const order = Array.from({ length: documents.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const kept = options.topK === undefined ? order : order.slice(0, options.topK);
  const withText = options.returnDocuments ?? true;
  return {
    query,
    model,
    results: kept.map((index, position) => ({
      index,
      rank: position + 1,
      score: scores[index],
      ...(options.fuse ? { rankerScore: rankerScores[index] } : {}),
      ...(withText ? { document: documents[index] } : {}),
    })),
  };
}

/** A ranker's scores back in input order: `scores[i]` is the score of `documents[i]`. */
export async function scoresOf(ranker: Ranker, query: string, documents: readonly string[]): Promise<number[]> {
  const ranked = await ranker.rank(query, documents, { returnDocuments: false });
  const scores = new Array<number>(documents.length);
  for (const r of ranked.results) scores[r.index] = r.score;
  return scores;
}
