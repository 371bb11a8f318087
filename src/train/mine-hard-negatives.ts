/**
 * Hard-negative mining, as sentence-transformers' `mine_hard_negatives` does it: for each (query, positive) pair,
 * retrieve the documents closest to the query, drop the positive (and any document with the same text), keep a rank
 * window of the rest, filter out likely false negatives by margin or score, and keep the hardest (or a seeded random
 * sample) as negatives, written in the shapes the trainer reads.
 *
 * No libtorch here (nothing from engine.ts, trainer.ts or trainable-model.ts): data preparation and inference-only
 * users mine without the training addon. LanceDB and the encoder are loaded only when the chosen retriever needs them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { describeValue } from '../util/describe.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mean } from '../eval/ir-metrics.js';
import { SeededRandom } from '../models/random.js';
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import { l2normalize } from '../models/vectors.js';
import { scoresOf, type Ranker } from '../rank/results.js';
import type { IndexedDocument, RetrievedDocument, Retriever, SearchMode } from '../retrieve/retriever.js';
import { DEFAULT_RRF_K, reciprocalRankFusion } from '../retrieve/rrf.js';
import { InputError, importOptional } from '../errors.js';

export const MINING_RETRIEVERS = ['bm25', 'vector', 'hybrid'] as const;
export type MiningRetriever = (typeof MINING_RETRIEVERS)[number];
export const MINING_FORMATS = ['triplet', 'n-tuple', 'labeled-pair'] as const;
export type MiningFormat = (typeof MINING_FORMATS)[number];
export const MINING_SAMPLING = ['top', 'random'] as const;
export type MiningSampling = (typeof MINING_SAMPLING)[number];

/** A positive by text, or by corpus id (`text` may then be left out; when given it must equal the corpus text). */
export type MiningPositive = string | { id: string; text?: string };

export interface MiningPair {
  query: string;
  positive: MiningPositive;
}

export interface MineHardNegativesOptions {
  /**
   * How candidates are found (default `bm25`): `bm25` = LanceDB full-text search; `vector` = exact cosine with the
   * encoder; `hybrid` = both lists fused by reciprocal rank, as `LanceDbRetriever`'s hybrid search does.
   */
  retriever?: MiningRetriever;
  /**
   * An open retriever to search instead of building a temporary index over `corpus` (`bm25` searches it in `text`
   * mode). It is searched as it is: nothing is added to it, so a positive it lacks is simply never retrieved.
   * `corpus` then only resolves positives given by id, and may be empty.
   */
  index?: Retriever;
  /** `vector` / `hybrid` on the temporary index: the sentence encoder (default: `use-lite`, loaded and disposed here). */
  encoder?: SentenceEncoder;
  /**
   * Rescores each pair's positive and window candidates (e.g. a cross-encoder from `loadRanker`): margins, `maxScore`,
   * the `top` order and output scores are then on this scorer's scale, as sentence-transformers' `cross_encoder`.
   */
  scorer?: Ranker;
  /**
   * Skip the first N candidates of the retriever's ranking, positives removed (default 0). The window is cut before
   * the filters, so rangeMin 3 always skips the 3 nearest documents (sentence-transformers skips the first 3 that
   * survive the filters).
   */
  rangeMin?: number;
  /** Consider the retriever's first N candidates, positives removed (default 100). */
  rangeMax?: number;
  /** Negatives per pair (default 3); must fit in the window: numNegatives <= rangeMax - rangeMin. */
  numNegatives?: number;
  /** Drop a candidate whose score > positiveScore - margin (>= 0; 0: negatives never score above the positive). */
  margin?: number;
  /**
   * Drop a candidate whose score > positiveScore - |positiveScore| * relativeMargin, in [0, 1]. For the usual
   * non-negative positive scores that is positiveScore * (1 - relativeMargin); the |.| keeps the rule sensible for
   * negative cosines (sentence-transformers made the same fix).
   */
  relativeMargin?: number;
  /** Drop a candidate whose score is above this. */
  maxScore?: number;
  /** `top` (default): the hardest survivors; `random`: a uniform sample of them, seeded. */
  samplingStrategy?: MiningSampling;
  /** Seed of the PRNG behind `random` (default 42). */
  seed?: number;
  /** Record shape (default `triplet`); see `MinedRecord`. */
  format?: MiningFormat;
  /** Add scores to the records (`scores` in triplets and n-tuples, `score` in labelled pairs). */
  outputScores?: boolean;
  /** Called after each pair with pairs done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * `triplet` and `n-tuple` records are read by `train bi-encoder --loss mnrl` (which uses query and positive);
 * `labeled-pair` records are exactly what `train cross-encoder --loss bce` reads. The trainer ignores the extra
 * fields (ids, scores). Ids of documents that were not in the corpus (positives given by text) are left out.
 */
export interface TripletRecord {
  query: string;
  positive: string;
  negative: string;
  positive_id?: string;
  negative_id?: string;
  /** With `outputScores`: [positive, negative]. */
  scores?: [number, number];
}

/** Only pairs that got all `numNegatives` negatives become n-tuples (fixed-size tuples, as sentence-transformers). */
export interface NTupleRecord {
  query: string;
  positive: string;
  negatives: string[];
  positive_id?: string;
  /** null for a document without a caller's id (a positive of another pair given by text). */
  negative_ids: Array<string | null>;
  /** With `outputScores`: [positive, ...negatives]. */
  scores?: number[];
}

/** One line for the positive (label 1), then one per negative (label 0). */
export interface LabeledPairRecord {
  query: string;
  document: string;
  label: 0 | 1;
  document_id?: string;
  /**
   * With `outputScores`: the document's score. Note that `train cross-encoder --loss mse` reads `score` as its
   * target: that is what you want when the scores come from a cross-encoder `scorer`, not from BM25.
   */
  score?: number;
}

export type MinedRecord = TripletRecord | NTupleRecord | LabeledPairRecord;

export interface MiningStats {
  pairs: number;
  /** Distinct query texts. */
  queries: number;
  /** Documents searched: the corpus plus added positives, or what the given index holds. */
  documents: number;
  records: number;
  negatives: number;
  /** `bm25`, `vector:<encoder>`, `hybrid:<encoder>`, or the given index's name and mode. */
  retriever: string;
  /** What margins and `maxScore` were compared on: `bm25`, `cosine:<encoder>`, `rrf`, or the scorer's name. */
  scoredBy: string;
  /** Pairs that got fewer negatives than asked, and why. */
  short: {
    pairs: number;
    /** The retriever had fewer than `numNegatives` candidates in the rank window. */
    noCandidates: number;
    /** The window had enough, but margin / relativeMargin / maxScore removed too many. */
    filtered: number;
  };
  /** Candidates removed by each filter, applied in this order (a candidate is counted once, by the first). */
  skipped: { margin: number; relativeMargin: number; maxScore: number };
  /** Where the positive was in the retriever's ranking (searched to rangeMax plus the query's excluded documents). */
  positive: { retrieved: number; notRetrieved: number; meanRank: number | null };
  meanPositiveScore: number | null;
  meanNegativeScore: number | null;
  seconds: number;
}

export interface MiningResult {
  records: MinedRecord[];
  stats: MiningStats;
}

const DEFAULTS = { rangeMin: 0, rangeMax: 100, numNegatives: 3, seed: 42 } as const;
/** Documents (and queries) per encoder call. */
const ENCODE_BATCH = 64;
/** Hybrid: hits taken from each list before fusing, at least (LanceDbRetriever's default fusion depth). */
const MIN_FUSION_DEPTH = 50;

interface ResolvedOptions {
  retriever: MiningRetriever;
  rangeMin: number;
  rangeMax: number;
  numNegatives: number;
  margin?: number;
  relativeMargin?: number;
  maxScore?: number;
  sampling: MiningSampling;
  seed: number;
  format: MiningFormat;
  outputScores: boolean;
}

/** A pool document: the corpus plus positives given by text that the corpus lacks. */
interface PoolDocument {
  id: string;
  text: string;
  /** False for an added positive: its id is ours, not the caller's, and is not written out. */
  inCorpus: boolean;
}

interface ResolvedPair {
  query: string;
  positiveText: string;
  /** The pool id of the positive (undefined with a given index when the positive is not in the corpus). */
  positiveId?: string;
  /** The caller's id for the positive, written out as positive_id / document_id. */
  outputId?: string;
}

/** A ranked candidate: pool id, text, the retriever's score and 1-based rank. */
interface Hit {
  id: string;
  text: string;
  score: number;
  rank: number;
}

/** One search strategy: ranked hits for a query, and the positive's score under the same measure. */
interface CandidateSource {
  readonly name: string;
  readonly scoredBy: string;
  /** Whether the positive's score costs next to nothing (then it is always computed, for the stats). */
  readonly cheapPositiveScore: boolean;
  /** At least the best `depth` documents, best first, ties in a fixed order. */
  search(query: string, depth: number): Promise<Hit[]>;
  /** The filter scale's score of `hits` (the retriever's own, or a cosine for hybrid). */
  scoresOf(query: string, hits: readonly Hit[]): Promise<number[]>;
  /** The positive's score on that scale, or null when it cannot be known. */
  positiveScore(query: string, pair: ResolvedPair, hits: readonly Hit[]): Promise<number | null>;
  close(): Promise<void>;
}

/**
 * Mines hard negatives for `pairs` from `corpus`. Deterministic: the same inputs, options and seed give the same
 * records (ties in the retriever's scores are broken by corpus order, or by id for a given index).
 */
export async function mineHardNegatives(
  pairs: readonly MiningPair[],
  corpus: readonly IndexedDocument[],
  options: MineHardNegativesOptions = {},
): Promise<MiningResult> {
  const started = performance.now();
  const opts = resolveOptions(options);
  const given = options.index;
  if (given !== undefined) checkIndex(given, opts, options);
  if (options.scorer !== undefined && (typeof options.scorer !== 'object' || options.scorer === null || typeof options.scorer.rank !== 'function')) {
    throw new InputError('scorer: expected a Ranker (an object with rank(query, documents))');
  }
  if (options.encoder !== undefined && (typeof options.encoder !== 'object' || options.encoder === null || typeof options.encoder.encode !== 'function')) {
    throw new InputError('encoder: expected a SentenceEncoder (an object with encode(texts))');
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new InputError('onProgress: expected a function');
  const { pool, resolved } = resolveInputs(pairs, corpus, given !== undefined);
  const documentCount = given ? await given.count() : pool.length;

  // Everything a query must never get as a negative: each of its positives, and every document with the same text.
  const byText = new Map<string, string[]>();
  for (const d of pool) {
    const key = d.text.trim();
    byText.set(key, [...(byText.get(key) ?? []), d.id]);
  }
  const excludedIds = new Map<string, Set<string>>();
  const excludedTexts = new Map<string, Set<string>>();
  for (const pair of resolved) {
    const ids = excludedIds.get(pair.query) ?? new Set<string>();
    const texts = excludedTexts.get(pair.query) ?? new Set<string>();
    if (pair.positiveId !== undefined) ids.add(pair.positiveId);
    for (const id of byText.get(pair.positiveText.trim()) ?? []) ids.add(id);
    texts.add(pair.positiveText.trim());
    excludedIds.set(pair.query, ids);
    excludedTexts.set(pair.query, texts);
  }

  // Positives given by text that the corpus lacks join the pool under ids of ours, which are not written out.
  const hiddenIds = new Set(pool.filter((d) => !d.inCorpus).map((d) => d.id));
  const source = given ? indexSource(given, opts) : await temporarySource(pool, opts, options.encoder);
  const rng = new SeededRandom(opts.seed);
  const records: MinedRecord[] = [];
  const skipped = { margin: 0, relativeMargin: 0, maxScore: 0 };
  const short = { pairs: 0, noCandidates: 0, filtered: 0 };
  const positiveRanks: number[] = [];
  const positiveScores: number[] = [];
  const negativeScores: number[] = [];
  let negatives = 0;
  const searched = new Map<string, Hit[]>();
  try {
    for (let p = 0; p < resolved.length; p++) {
      const pair = resolved[p];
      const ids = excludedIds.get(pair.query)!;
      const texts = excludedTexts.get(pair.query)!;
      let hits = searched.get(pair.query);
      if (!hits) {
        hits = await source.search(pair.query, opts.rangeMax + ids.size);
        searched.set(pair.query, hits);
      }
      const positiveHit = hits.find((h) => isPositive(h, pair));
      if (positiveHit) positiveRanks.push(positiveHit.rank);
      const candidates = hits.filter((h) => !ids.has(h.id) && !texts.has(h.text.trim())).slice(0, opts.rangeMax);
      const window = candidates.slice(opts.rangeMin);

      // Scores on the filter scale: the scorer's (positive first), or the retriever's (a cosine for hybrid).
      const needPositive = source.cheapPositiveScore || opts.margin !== undefined || opts.relativeMargin !== undefined || opts.outputScores;
      let windowScores: number[];
      let positiveScore: number | null = null;
      if (options.scorer) {
        const documents = [pair.positiveText, ...window.map((h) => h.text)];
        const scores = await scoresOf(options.scorer, pair.query, documents);
        positiveScore = scores[0];
        windowScores = scores.slice(1);
      } else {
        windowScores = await source.scoresOf(pair.query, window);
        if (needPositive) positiveScore = await source.positiveScore(pair.query, pair, hits);
      }
      if (positiveScore === null && (opts.margin !== undefined || opts.relativeMargin !== undefined)) {
        throw new InputError(
          `pairs[${p}].positive: not found in the index, so its ${source.scoredBy} score for the margin is unknown; ` +
            'add it to the index, or pass a scorer',
        );
      }
      if (positiveScore !== null) positiveScores.push(positiveScore);

      // Filters, in sentence-transformers' order.
      let kept = window.map((hit, i) => ({ hit, score: windowScores[i] }));
      if (opts.margin !== undefined) {
        const limit = positiveScore! - opts.margin;
        const before = kept.length;
        kept = kept.filter((c) => !(c.score > limit));
        skipped.margin += before - kept.length;
      }
      if (opts.relativeMargin !== undefined) {
        const limit = positiveScore! - Math.abs(positiveScore!) * opts.relativeMargin;
        const before = kept.length;
        kept = kept.filter((c) => !(c.score > limit));
        skipped.relativeMargin += before - kept.length;
      }
      if (opts.maxScore !== undefined) {
        const limit = opts.maxScore;
        const before = kept.length;
        kept = kept.filter((c) => !(c.score > limit));
        skipped.maxScore += before - kept.length;
      }
      // With a scorer the hardest are the scorer's highest (ties: the retriever's order); else the retriever's order.
      if (options.scorer) kept = kept.map((c, i) => ({ ...c, i })).sort((a, b) => b.score - a.score || a.i - b.i);

      let chosen: typeof kept;
      if (opts.sampling === 'top' || kept.length <= opts.numNegatives) {
        chosen = kept.slice(0, opts.numNegatives);
      } else {
        // A uniform sample without replacement (partial Fisher-Yates), then back in hardness order.
        const order = kept.map((_, i) => i);
        for (let i = 0; i < opts.numNegatives; i++) {
          const j = i + rng.int(order.length - i);
          [order[i], order[j]] = [order[j], order[i]];
        }
        chosen = order
          .slice(0, opts.numNegatives)
          .sort((a, b) => a - b)
          .map((i) => kept[i]);
      }
      if (chosen.length < opts.numNegatives) {
        short.pairs++;
        if (window.length < opts.numNegatives) short.noCandidates++;
        else short.filtered++;
      }
      negatives += chosen.length;
      for (const c of chosen) negativeScores.push(c.score);
      records.push(...toRecords(pair, chosen, positiveScore, opts, hiddenIds));
      options.onProgress?.(p + 1, resolved.length);
    }
  } finally {
    await source.close();
  }

  return {
    records,
    stats: {
      pairs: resolved.length,
      queries: excludedIds.size,
      documents: documentCount,
      records: records.length,
      negatives,
      retriever: source.name,
      scoredBy: options.scorer ? options.scorer.name : source.scoredBy,
      short,
      skipped,
      positive: {
        retrieved: positiveRanks.length,
        notRetrieved: resolved.length - positiveRanks.length,
        meanRank: positiveRanks.length > 0 ? mean(positiveRanks) : null,
      },
      meanPositiveScore: positiveScores.length > 0 ? mean(positiveScores) : null,
      meanNegativeScore: negativeScores.length > 0 ? mean(negativeScores) : null,
      seconds: (performance.now() - started) / 1000,
    },
  };
}

/** A hit is the pair's positive by id, or by text (a positive given by text, searched for in a caller's index). */
function isPositive(hit: Hit, pair: ResolvedPair): boolean {
  return hit.id === pair.positiveId || hit.text.trim() === pair.positiveText.trim();
}

function toRecords(
  pair: ResolvedPair,
  chosen: ReadonlyArray<{ hit: Hit; score: number }>,
  positiveScore: number | null,
  opts: ResolvedOptions,
  hiddenIds: ReadonlySet<string>,
): MinedRecord[] {
  const withScores = opts.outputScores && positiveScore !== null;
  const idOf = (hit: Hit) => (hiddenIds.has(hit.id) ? undefined : hit.id);
  switch (opts.format) {
    case 'triplet':
      return chosen.map(({ hit, score }) => {
        const id = idOf(hit);
        return {
          query: pair.query,
          positive: pair.positiveText,
          negative: hit.text,
          ...(pair.outputId !== undefined ? { positive_id: pair.outputId } : {}),
          ...(id !== undefined ? { negative_id: id } : {}),
          ...(withScores ? { scores: [positiveScore!, score] as [number, number] } : {}),
        };
      });
    case 'n-tuple':
      if (chosen.length < opts.numNegatives) return [];
      return [
        {
          query: pair.query,
          positive: pair.positiveText,
          negatives: chosen.map((c) => c.hit.text),
          ...(pair.outputId !== undefined ? { positive_id: pair.outputId } : {}),
          negative_ids: chosen.map((c) => idOf(c.hit) ?? null),
          ...(withScores ? { scores: [positiveScore!, ...chosen.map((c) => c.score)] } : {}),
        },
      ];
    case 'labeled-pair': {
      const line = (document: string, label: 0 | 1, id: string | undefined, score: number): LabeledPairRecord => ({
        query: pair.query,
        document,
        label,
        ...(id !== undefined ? { document_id: id } : {}),
        ...(withScores ? { score } : {}),
      });
      return [line(pair.positiveText, 1, pair.outputId, positiveScore!), ...chosen.map(({ hit, score }) => line(hit.text, 0, idOf(hit), score))];
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Options and inputs

function resolveOptions(options: MineHardNegativesOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new InputError('options: expected an object');
  const retriever = options.retriever ?? 'bm25';
  if (!(MINING_RETRIEVERS as readonly string[]).includes(retriever)) throw new InputError(`retriever: expected one of ${MINING_RETRIEVERS.join(', ')}, got ${describeValue(retriever)}`);
  const rangeMin = options.rangeMin ?? DEFAULTS.rangeMin;
  if (!Number.isInteger(rangeMin) || rangeMin < 0) throw new InputError(`rangeMin: expected a non-negative integer, got ${describeValue(rangeMin)}`);
  const rangeMax = options.rangeMax ?? DEFAULTS.rangeMax;
  if (!Number.isInteger(rangeMax) || rangeMax < 1) throw new InputError(`rangeMax: expected a positive integer, got ${describeValue(rangeMax)}`);
  if (rangeMin >= rangeMax) throw new InputError(`rangeMin: expected less than rangeMax (${rangeMax}), got ${rangeMin}`);
  const numNegatives = options.numNegatives ?? DEFAULTS.numNegatives;
  if (!Number.isInteger(numNegatives) || numNegatives < 1) throw new InputError(`numNegatives: expected a positive integer, got ${describeValue(numNegatives)}`);
  if (numNegatives > rangeMax - rangeMin) {
    throw new InputError(`numNegatives: ${numNegatives} do not fit in the candidate window rangeMin..rangeMax (${rangeMin}..${rangeMax}, ${rangeMax - rangeMin} candidates)`);
  }
  const { margin, relativeMargin, maxScore } = options;
  if (margin !== undefined && (typeof margin !== 'number' || !Number.isFinite(margin) || margin < 0)) throw new InputError(`margin: expected a non-negative number, got ${describeValue(margin)}`);
  if (relativeMargin !== undefined && (typeof relativeMargin !== 'number' || !(relativeMargin >= 0 && relativeMargin <= 1))) {
    throw new InputError(`relativeMargin: expected a number in [0, 1], got ${describeValue(relativeMargin)}`);
  }
  if (maxScore !== undefined && (typeof maxScore !== 'number' || !Number.isFinite(maxScore))) throw new InputError(`maxScore: expected a finite number, got ${describeValue(maxScore)}`);
  const sampling = options.samplingStrategy ?? 'top';
  if (!(MINING_SAMPLING as readonly string[]).includes(sampling)) throw new InputError(`samplingStrategy: expected one of ${MINING_SAMPLING.join(', ')}, got ${describeValue(sampling)}`);
  const seed = options.seed ?? DEFAULTS.seed;
  if (!Number.isSafeInteger(seed)) throw new InputError(`seed: expected an integer, got ${describeValue(seed)}`);
  const format = options.format ?? 'triplet';
  if (!(MINING_FORMATS as readonly string[]).includes(format)) throw new InputError(`format: expected one of ${MINING_FORMATS.join(', ')}, got ${describeValue(format)}`);
  if (options.outputScores !== undefined && typeof options.outputScores !== 'boolean') throw new InputError(`outputScores: expected true or false, got ${describeValue(options.outputScores)}`);
  return { retriever, rangeMin, rangeMax, numNegatives, margin, relativeMargin, maxScore, sampling, seed, format, outputScores: options.outputScores ?? false };
}

const MODE_OF: Record<MiningRetriever, SearchMode> = { bm25: 'text', vector: 'vector', hybrid: 'hybrid' };

function checkIndex(index: Retriever, opts: ResolvedOptions, options: MineHardNegativesOptions): void {
  if (typeof index !== 'object' || index === null || typeof index.search !== 'function' || !Array.isArray(index.modes)) {
    throw new InputError('index: expected an open Retriever (an object with search() and modes)');
  }
  const mode = MODE_OF[opts.retriever];
  if (!index.modes.includes(mode)) throw new InputError(`retriever: ${opts.retriever} needs ${mode} search, which index ${index.name} does not support (it supports: ${index.modes.join(', ')})`);
  if (opts.retriever === 'hybrid' && options.scorer === undefined) {
    for (const name of ['margin', 'relativeMargin', 'maxScore'] as const) {
      if (opts[name] !== undefined) {
        throw new InputError(`${name}: a hybrid search ranks by reciprocal rank fusion, whose scores are not similarities; pass a scorer, or use retriever bm25 or vector`);
      }
    }
  }
  if (options.encoder !== undefined) throw new InputError('encoder: not used with a given index (it embeds with its own encoder)');
}

/** Validates pairs and corpus, and builds the pool: the corpus plus the positives given by text that it lacks. */
function resolveInputs(pairs: readonly MiningPair[], corpus: readonly IndexedDocument[], haveIndex: boolean): { pool: PoolDocument[]; resolved: ResolvedPair[] } {
  if (!Array.isArray(pairs)) throw new InputError(`pairs: expected an array of {query, positive}, got ${typeof pairs}`);
  if (pairs.length === 0) throw new InputError('pairs: expected at least one {query, positive}');
  if (!Array.isArray(corpus)) throw new InputError(`corpus: expected an array of {id, text}, got ${typeof corpus}`);
  if (corpus.length === 0 && !haveIndex) throw new InputError('corpus: expected at least one document {id, text}');
  const pool: PoolDocument[] = [];
  const byId = new Map<string, PoolDocument>();
  const textIds = new Map<string, string>();
  corpus.forEach((d, i) => {
    if (typeof d !== 'object' || d === null) throw new InputError(`corpus[${i}]: expected an object {id, text, metadata?}`);
    if (typeof d.id !== 'string' || d.id === '') throw new InputError(`corpus[${i}].id: expected a non-empty string, got ${describeValue(d.id)}`);
    if (typeof d.text !== 'string') throw new InputError(`corpus[${i}].text: expected a string, got ${describeValue(d.text)}`);
    if (byId.has(d.id)) throw new InputError(`corpus[${i}].id: ${JSON.stringify(d.id)} is already used by corpus[${pool.indexOf(byId.get(d.id)!)}]`);
    const document = { id: d.id, text: d.text, inCorpus: true };
    pool.push(document);
    byId.set(d.id, document);
    if (!textIds.has(d.text.trim())) textIds.set(d.text.trim(), d.id);
  });
  const addedByText = new Map<string, PoolDocument>();
  let added = 0;
  const resolved = pairs.map((pair, i): ResolvedPair => {
    if (typeof pair !== 'object' || pair === null) throw new InputError(`pairs[${i}]: expected an object {query, positive}`);
    if (typeof pair.query !== 'string' || pair.query.trim() === '') throw new InputError(`pairs[${i}].query: expected a non-empty string, got ${describeValue(pair.query)}`);
    const positive = pair.positive;
    if (typeof positive === 'string') {
      if (positive.trim() === '') throw new InputError(`pairs[${i}].positive: expected a non-empty string or {id, text?}, got ""`);
      const corpusId = textIds.get(positive.trim());
      if (corpusId !== undefined) return { query: pair.query, positiveText: positive, positiveId: corpusId };
      if (haveIndex) return { query: pair.query, positiveText: positive };
      let document = addedByText.get(positive.trim());
      if (!document) {
        let id: string;
        do id = `#positive-${++added}`;
        while (byId.has(id));
        document = { id, text: positive, inCorpus: false };
        pool.push(document);
        byId.set(id, document);
        addedByText.set(positive.trim(), document);
      }
      return { query: pair.query, positiveText: positive, positiveId: document.id };
    }
    if (typeof positive !== 'object' || positive === null) throw new InputError(`pairs[${i}].positive: expected a non-empty string or {id, text?}, got ${describeValue(positive)}`);
    if (typeof positive.id !== 'string' || positive.id === '') throw new InputError(`pairs[${i}].positive.id: expected a non-empty string, got ${describeValue(positive.id)}`);
    if (positive.text !== undefined && (typeof positive.text !== 'string' || positive.text.trim() === '')) {
      throw new InputError(`pairs[${i}].positive.text: expected a non-empty string or nothing, got ${describeValue(positive.text)}`);
    }
    const known = byId.get(positive.id);
    if (known && !known.inCorpus) throw new InputError(`pairs[${i}].positive.id: ${JSON.stringify(positive.id)} is an id this function gives to positives given by text; rename it`);
    if (known) {
      if (positive.text !== undefined && positive.text.trim() !== known.text.trim()) {
        throw new InputError(`pairs[${i}].positive.text: differs from the text of corpus document ${JSON.stringify(positive.id)}`);
      }
      return { query: pair.query, positiveText: known.text, positiveId: known.id, outputId: known.id };
    }
    if (positive.text === undefined) throw new InputError(`pairs[${i}].positive.id: ${JSON.stringify(positive.id)} is not in the corpus; give its text too`);
    if (haveIndex) return { query: pair.query, positiveText: positive.text, positiveId: positive.id, outputId: positive.id };
    // A positive by id that the corpus lacks joins the pool under that id (the id is the caller's: written out).
    const document = { id: positive.id, text: positive.text, inCorpus: true };
    pool.push(document);
    byId.set(positive.id, document);
    return { query: pair.query, positiveText: positive.text, positiveId: positive.id, outputId: positive.id };
  });
  return { pool, resolved };
}

// ---------------------------------------------------------------------------------------------------------------
// Candidate sources

/** How far past the cut a search looks for documents tied with the last one kept (see `searchWithTies`). */
const TIE_LOOKAHEAD = 4;

/**
 * The best `depth` hits, ties in a fixed order (`tieKey`). Which of several tied documents a retriever returns first
 * is up to it, so when the hit after the cut ties with the last one kept, this searches once more, TIE_LOOKAHEAD
 * times deeper, to bring in the documents tied at the cut before ordering and cutting. More ties than that (one
 * common term in many documents of equal length) keep the retriever's own order among the last ones: LanceDB's is the
 * same from run to run and from build to build of the same data (checked over 3 builds of a 20k-document index), so
 * mining stays deterministic; looking further cost a search of several thousand hits per query there.
 */
async function searchWithTies(
  search: (k: number) => Promise<RetrievedDocument[]>,
  depth: number,
  tieKey: (hit: RetrievedDocument) => number | string,
): Promise<Hit[]> {
  const k = Math.max(depth, 1);
  let hits = await search(k + 1);
  if (hits.length > k && hits[k].score === hits[k - 1].score) hits = await search(k * TIE_LOOKAHEAD + 1);
  const keyed = hits.map((h) => ({ h, key: tieKey(h) }));
  // Only the ties are reordered: a stable sort on score then key keeps everything else where the retriever put it.
  keyed.sort((a, b) => b.h.score - a.h.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.slice(0, depth).map(({ h }, i) => ({ id: h.id, text: h.text, score: h.score, rank: i + 1 }));
}

/** A caller's open retriever, searched as it is. */
function indexSource(index: Retriever, opts: ResolvedOptions): CandidateSource {
  const mode = MODE_OF[opts.retriever];
  const search = (query: string, depth: number) => searchWithTies((k) => index.search(query, { k, mode }), depth, (h) => h.id);
  return {
    name: `${index.name} (${mode})`,
    scoredBy: mode === 'text' ? 'bm25' : mode === 'vector' ? 'cosine' : 'rrf',
    cheapPositiveScore: false,
    search,
    scoresOf: async (_query, hits) => hits.map((h) => h.score),
    async positiveScore(query, pair, hits) {
      const found = hits.find((h) => isPositive(h, pair));
      if (found) return found.score;
      // Not among the first hits: search the whole index (a text search returns only documents sharing a term).
      const everything = Math.max(await index.count(), 1);
      const hit = (await index.search(query, { k: everything, mode })).find((h) => isPositive(h, pair));
      if (hit) return hit.score;
      if (mode !== 'text') return null;
      // A stored document that shares no term with the query scores 0 under BM25; searched by its own text, a stored
      // positive comes back.
      const stored = (await index.search(pair.positiveText, { k: everything, mode: 'text' })).some((h) => isPositive(h, pair));
      return stored ? 0 : null;
    },
    close: async () => undefined,
  };
}

/**
 * A temporary LanceDB index over the pool for BM25 (and the lexical half of hybrid), deleted afterwards.
 *
 * Vectors are NOT put in LanceDB: the pool is encoded once and kept in memory as one Float32Array, and each query is
 * an exact dot-product scan of it. LanceDB's vector search here would also be an exact scan (no ANN index), so the
 * result is the same, but in memory we skip writing the vectors to disk and the per-query round trip through
 * LanceDB's native module and Arrow, and the positive's cosine is one dot product away. The cost is memory:
 * documents x dimension x 4 bytes (100k documents x 512-d USE Lite = 205 MB).
 */
async function temporarySource(pool: readonly PoolDocument[], opts: ResolvedOptions, givenEncoder: SentenceEncoder | undefined): Promise<CandidateSource> {
  const order = new Map(pool.map((d, i) => [d.id, i]));
  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    let lexical: { search(query: string, depth: number): Promise<Hit[]>; score(query: string, id: string): Promise<number> } | undefined;
    if (opts.retriever !== 'vector') {
      lexical = await lanceDbLexical(pool, order, cleanups);
    }
    let vectors: InMemoryVectors | undefined;
    if (opts.retriever !== 'bm25') {
      let encoder = givenEncoder;
      if (!encoder) {
        const { loadSentenceEncoder } = await import('../models/load-encoder.js');
        const loaded = await loadSentenceEncoder();
        cleanups.push(() => loaded.dispose());
        encoder = loaded;
      }
      vectors = await InMemoryVectors.build(encoder, pool);
    }

    if (opts.retriever === 'bm25') {
      const bm25 = lexical!;
      return {
        name: 'bm25',
        scoredBy: 'bm25',
        cheapPositiveScore: true,
        search: (query, depth) => bm25.search(query, depth),
        scoresOf: async (_query, hits) => hits.map((h) => h.score),
        positiveScore: async (query, pair, hits) => hits.find((h) => h.id === pair.positiveId)?.score ?? bm25.score(query, pair.positiveId!),
        close,
      };
    }
    const vec = vectors!;
    if (opts.retriever === 'vector') {
      return {
        name: `vector:${vec.encoderName}`,
        scoredBy: `cosine:${vec.encoderName}`,
        cheapPositiveScore: true,
        search: async (query, depth) => vec.search(await vec.query(query), depth),
        scoresOf: async (_query, hits) => hits.map((h) => h.score),
        positiveScore: async (query, pair) => vec.score(await vec.query(query), pair.positiveId!),
        close,
      };
    }
    // Hybrid: the BM25 and cosine lists fused by reciprocal rank, as LanceDbRetriever's hybrid search does. RRF scores
    // only say where a document was in each list, not how close it is to the query, so margins, maxScore and the
    // output scores use the cosine (exact, from the same vectors).
    const bm25 = lexical!;
    return {
      name: `hybrid:${vec.encoderName}`,
      scoredBy: `cosine:${vec.encoderName}`,
      cheapPositiveScore: true,
      async search(query, depth) {
        const fusion = Math.max(depth, MIN_FUSION_DEPTH);
        const [textHits, vectorHits] = await Promise.all([bm25.search(query, fusion), vec.query(query).then((q) => vec.search(q, fusion))]);
        const texts = new Map([...vectorHits, ...textHits].map((h) => [h.id, h.text]));
        return reciprocalRankFusion([textHits.map((h) => h.id), vectorHits.map((h) => h.id)], DEFAULT_RRF_K)
          .slice(0, depth)
          .map((item, i) => ({ id: item.id, text: texts.get(item.id)!, score: item.score, rank: i + 1 }));
      },
      async scoresOf(query, hits) {
        const q = await vec.query(query);
        return hits.map((h) => vec.score(q, h.id));
      },
      positiveScore: async (query, pair) => vec.score(await vec.query(query), pair.positiveId!),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** BM25 over a temporary LanceDB folder, through the project's LanceDbRetriever. */
async function lanceDbLexical(pool: readonly PoolDocument[], order: Map<string, number>, cleanups: Array<() => Promise<void>>) {
  const { LanceDbRetriever, sqlString, DEFAULT_LANCE_TABLE } = await import('../retrieve/lancedb.js'); // sets up LanceDB's logging first
  const lancedb = await importOptional('@lancedb/lancedb', 'Mining with the lancedb retriever', () => import('@lancedb/lancedb'));
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-mine-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const index = await LanceDbRetriever.open(dir);
  cleanups.push(() => index.close());
  await index.add(pool.map((d) => ({ id: d.id, text: d.text })));
  // The positive's BM25 score when it is not among the hits: the same full-text query restricted to its row. LanceDB
  // scores a filtered full-text search with the whole index's statistics, so this is the score an unfiltered search
  // gives it (the tests check that); no row means it shares no term with the query, and BM25 is then 0.
  const db = await lancedb.connect(dir);
  cleanups.push(async () => db.close());
  const table = await db.openTable(DEFAULT_LANCE_TABLE);
  cleanups.push(async () => table.close());
  const total = pool.length;
  return {
    search: (query: string, depth: number) =>
      searchWithTies((k) => index.search(query, { k: Math.min(k, total), mode: 'text' }), Math.min(depth, total), (h) => order.get(h.id)!),
    async score(query: string, id: string): Promise<number> {
      const rows = await table.query().fullTextSearch(query, { columns: ['text'] }).where(`id = ${sqlString(id)}`).select(['id', '_score']).limit(1).toArray();
      return rows.length > 0 ? Number(rows[0]._score) : 0;
    },
  };
}

/** The pool's unit vectors in one array, searched by exact dot product (= cosine). */
class InMemoryVectors {
  private readonly queries = new Map<string, Float32Array>();

  private constructor(
    private readonly encoder: SentenceEncoder,
    private readonly ids: readonly string[],
    private readonly texts: readonly string[],
    private readonly matrix: Float32Array,
    private readonly dimension: number,
    private readonly row: Map<string, number>,
  ) {}

  get encoderName(): string {
    return this.encoder.name;
  }

  static async build(encoder: SentenceEncoder, pool: readonly PoolDocument[]): Promise<InMemoryVectors> {
    const dimension = encoder.dimension;
    const matrix = new Float32Array(pool.length * dimension);
    for (let start = 0; start < pool.length; start += ENCODE_BATCH) {
      const batch = pool.slice(start, start + ENCODE_BATCH);
      const vectors = await encoder.encode(batch.map((d) => d.text), { normalize: true });
      vectors.forEach((v, i) => {
        if (v.length !== dimension) throw new InputError(`encoder ${encoder.name} returned a ${v.length}-d vector; it says it is ${dimension}-d`);
        matrix.set(l2normalize(v), (start + i) * dimension);
      });
    }
    return new InMemoryVectors(encoder, pool.map((d) => d.id), pool.map((d) => d.text), matrix, dimension, new Map(pool.map((d, i) => [d.id, i])));
  }

  /** The query's unit vector, encoded once per distinct query. */
  async query(text: string): Promise<Float32Array> {
    let vector = this.queries.get(text);
    if (!vector) {
      vector = l2normalize((await this.encoder.encode([text], { normalize: true }))[0]);
      this.queries.set(text, vector);
    }
    return vector;
  }

  score(query: Float32Array, id: string): number {
    return this.dot(query, this.row.get(id)!);
  }

  /** The best `depth` rows, best first; ties by pool order. */
  search(query: Float32Array, depth: number): Hit[] {
    const n = this.ids.length;
    const scores = new Float64Array(n); // the same doubles as score(), so a hit's score equals the positive's scale
    for (let r = 0; r < n; r++) scores[r] = this.dot(query, r);
    const better = (a: number, b: number) => scores[a] > scores[b] || (scores[a] === scores[b] && a < b);
    // A min-heap of the best `depth` rows seen so far (its root is the worst of them).
    const k = Math.min(depth, n);
    const heap: number[] = [];
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let worst = i;
        if (l < heap.length && better(heap[worst], heap[l])) worst = l;
        if (r < heap.length && better(heap[worst], heap[r])) worst = r;
        if (worst === i) return;
        [heap[i], heap[worst]] = [heap[worst], heap[i]];
        i = worst;
      }
    };
    for (let row = 0; row < n; row++) {
      if (heap.length < k) {
        heap.push(row);
        for (let i = heap.length - 1; i > 0; ) {
          const parent = (i - 1) >> 1;
          if (!better(heap[parent], heap[i])) break;
          [heap[parent], heap[i]] = [heap[i], heap[parent]];
          i = parent;
        }
      } else if (k > 0 && better(row, heap[0])) {
        heap[0] = row;
        down(0);
      }
    }
    heap.sort((a, b) => (better(a, b) ? -1 : 1));
    return heap.map((row, i) => ({ id: this.ids[row], text: this.texts[row], score: scores[row], rank: i + 1 }));
  }

  private dot(query: Float32Array, row: number): number {
    const offset = row * this.dimension;
    let s = 0;
    for (let i = 0; i < this.dimension; i++) s += query[i] * this.matrix[offset + i];
    return s;
  }
}
