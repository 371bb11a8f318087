/**
 * A reranker that combines several signals of one (query, document) pair: BM25 against the statistics of the
 * collection it was adapted to, the cosine of a (possibly adapted) bi-encoder, and optionally a cross-encoder's score.
 * Two ways to combine them (`combination` in config.json):
 * - `z-score` (the default, what `rankwise adapt` writes): each signal is standardised within the candidate list and
 *   the results are mixed with fixed weights. Needs no labels, but a score only means something relative to its list.
 * - `logistic`: sigmoid(bias + sum of weight x signal) over the raw signals, with weights fitted by logistic
 *   regression on labelled pairs. A document's score is then a probability of relevance of its own, the same in any
 *   list. (BM25 divided by the query's best possible score was tried as the BM25 signal: it ranks worse, because a
 *   long query that matches many terms is evidence in itself.)
 *
 * Why: a small model that reads meaning misses exact matches (names, rare terms) that BM25 gets right, and BM25 misses
 * paraphrases. Mixing standardised scores keeps how confident each signal is, which reciprocal rank fusion throws
 * away, and needs no labels. `rankwise adapt` writes such a model folder:
 *
 * ```
 * config.json     {"model_type": "rankwise-hybrid", "signals": [{"kind": "bm25", "path": "bm25.json", "weight": 0.5},
 *                  {"kind": "encoder", "path": "encoder", "weight": 0.5}]}
 * bm25.json       the collection's BM25 statistics (document frequencies, average length, k1, b)
 * encoder/        a sentence-encoder model folder (or "model": "use-lite" for a built-in one)
 * ```
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import { Bm25Scorer, checkBm25Statistics } from '../retrieve/bm25.js';
import { EncoderRanker } from './encoder-ranker.js';
import { sigmoid } from '../util/math.js';
import { standardize } from './fusion.js';
import type { DocumentInput } from '../documents.js';
import { checkRankInput, rankByScores, scoresOf, type RankedResults, type Ranker, type RankOptions } from './results.js';
import { InputError, ModelInvalidError } from '../errors.js';

export const HYBRID_MODEL_TYPE = 'rankwise-hybrid';

export type HybridSignalKind = 'bm25' | 'encoder' | 'reranker';

/** One signal as config.json records it: a file or folder inside the model folder (`path`) or a model name (`model`). */
export interface HybridSignalSpec {
  kind: HybridSignalKind;
  weight: number;
  path?: string;
  model?: string;
}

export const HYBRID_COMBINATIONS = ['z-score', 'logistic'] as const;
export type HybridCombination = (typeof HYBRID_COMBINATIONS)[number];

export interface HybridConfig {
  model_type: typeof HYBRID_MODEL_TYPE;
  /** Default `z-score`. */
  combination?: HybridCombination;
  /** `logistic` only: the intercept. */
  bias?: number;
  signals: HybridSignalSpec[];
  /** Free-form record of how the model was made (recipe, data, timings), shown by nothing, kept for people. */
  adapted?: Record<string, unknown>;
}

/** A loaded signal: scores every document of a list for a query, higher is better. */
export interface HybridSignal {
  readonly kind: HybridSignalKind;
  readonly name: string;
  scores(query: string, documents: readonly string[]): Promise<number[]>;
  dispose(): Promise<void>;
}

/** Reads and checks `config.json` of a hybrid model folder; undefined when the folder holds another kind of model. */
export async function readHybridConfig(dir: string): Promise<HybridConfig | undefined> {
  let raw: string;
  try {
    raw = await readFile(join(dir, 'config.json'), 'utf8');
  } catch {
    return undefined;
  }
  let value: Partial<HybridConfig>;
  try {
    value = JSON.parse(raw) as Partial<HybridConfig>;
  } catch (error) {
    throw new ModelInvalidError(`${join(dir, 'config.json')}: not valid JSON (${(error as Error).message})`);
  }
  if (value.model_type !== HYBRID_MODEL_TYPE) return undefined;
  const where = join(dir, 'config.json');
  if (!Array.isArray(value.signals) || value.signals.length === 0) throw new InputError(`${where}: "signals": expected a non-empty array`);
  if (value.combination !== undefined && !HYBRID_COMBINATIONS.includes(value.combination)) throw new InputError(`${where}: "combination": expected z-score or logistic, got ${JSON.stringify(value.combination)}`);
  if (value.combination === 'logistic' && (typeof value.bias !== 'number' || !Number.isFinite(value.bias))) throw new InputError(`${where}: "bias": expected a number (the logistic combination's intercept)`);
  value.signals.forEach((s, i) => {
    if (!['bm25', 'encoder', 'reranker'].includes(s?.kind)) throw new InputError(`${where}: "signals[${i}].kind": expected bm25, encoder or reranker, got ${JSON.stringify(s?.kind)}`);
    if (typeof s.weight !== 'number' || !Number.isFinite(s.weight)) throw new InputError(`${where}: "signals[${i}].weight": expected a number`);
    if ((s.path === undefined) === (s.model === undefined)) throw new InputError(`${where}: "signals[${i}]": give exactly one of "path" (inside the folder) or "model" (a name)`);
    if (s.path !== undefined && (typeof s.path !== 'string' || s.path.includes('..'))) throw new InputError(`${where}: "signals[${i}].path": expected a relative path inside the model folder`);
    if (s.kind === 'bm25' && s.path === undefined) throw new InputError(`${where}: "signals[${i}]": a bm25 signal needs "path" to its statistics file`);
  });
  return value as HybridConfig;
}

export function bm25Signal(scorer: Bm25Scorer): HybridSignal {
  return { kind: 'bm25', name: 'bm25', scores: async (query, documents) => scorer.score(query, documents), dispose: async () => {} };
}

export async function loadBm25Signal(file: string): Promise<HybridSignal> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputError(`${file}: cannot read BM25 statistics (${(error as Error).message})`);
  }
  return bm25Signal(new Bm25Scorer(checkBm25Statistics(value, file)));
}

export function encoderSignal(encoder: SentenceEncoder): HybridSignal {
  const ranker = new EncoderRanker(encoder);
  return { kind: 'encoder', name: encoder.name, scores: (query, documents) => ranker.scores(query, documents), dispose: () => ranker.dispose() };
}

export function rankerSignal(ranker: Ranker): HybridSignal {
  return {
    kind: 'reranker',
    name: ranker.name,
    scores: (query, documents) => scoresOf(ranker, query, documents),
    dispose: () => ranker.dispose(),
  };
}

export class HybridRanker implements Ranker {
  constructor(
    readonly name: string,
    private readonly signals: ReadonlyArray<{ signal: HybridSignal; weight: number }>,
    private readonly combination: { kind: 'z-score' } | { kind: 'logistic'; bias: number } = { kind: 'z-score' },
  ) {
    if (signals.length === 0) throw new InputError('HybridRanker: expected at least one signal');
  }

  /** Each signal's raw scores and the combined score, per document: what `rank` orders by, for inspection. */
  async scoreAll(query: string, documents: readonly string[]): Promise<{ combined: number[]; signals: Record<string, number[]> }> {
    const logistic = this.combination.kind === 'logistic';
    const combined = new Array<number>(documents.length).fill(logistic ? (this.combination as { bias: number }).bias : 0);
    const raw: Record<string, number[]> = {};
    for (const { signal, weight } of this.signals) {
      const scores = await signal.scores(query, documents);
      raw[signal.kind] = scores;
      const values = logistic ? scores : standardize(scores);
      for (let i = 0; i < documents.length; i++) combined[i] += weight * values[i];
    }
    if (logistic) for (let i = 0; i < combined.length; i++) combined[i] = sigmoid(combined[i]);
    return { combined, signals: raw };
  }

  async rank(query: string, documents: readonly DocumentInput[], options: RankOptions = {}): Promise<RankedResults> {
    const checked = checkRankInput(query, documents, options);
    const { combined } = await this.scoreAll(query, checked.map((d) => d.text));
    return rankByScores(query, checked, combined, this.name, options);
  }

  async dispose(): Promise<void> {
    for (const { signal } of this.signals) await signal.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
