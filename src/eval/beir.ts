/**
 * Retrieval then reranking on a BEIR-format collection, measured as BEIR reports it (pytrec_eval's definitions):
 * nDCG@10 with linear gains and the ideal ranking over every judged document, MRR@10, MAP@100 (trec_eval's
 * map_cut_100) and recall@100, averaged over the queries that have at least one relevant judgment.
 *
 * A run is ordered as trec_eval orders it: by score, ties by document id in descending order, so that metrics equal
 * trec_eval's on the same run file.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultCacheDir } from '../models/hub.js';
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import { checkFusionOptions, fuseScores, type FusionOptions } from '../rank/fusion.js';
import { scoresOf, type Ranker } from '../rank/results.js';
import { Bm25Index } from '../retrieve/bm25.js';
import { LanceDbRetriever } from '../retrieve/lancedb.js';
import { reciprocalRankFusion } from '../retrieve/rrf.js';
import type { BeirCollection } from './beir-collection.js';
import { averagePrecision, mean, mrrAtK, ndcgAtK, recallAtK } from './ir-metrics.js';
import { InputError } from '../errors.js';

export type FirstStage = 'bm25' | 'vector' | 'hybrid';
export const FIRST_STAGES: readonly FirstStage[] = ['bm25', 'vector', 'hybrid'];

/** The four numbers BEIR tables show, under the names of the JSON output. */
export interface BeirMetrics {
  'ndcg@10': number;
  'mrr@10': number;
  'map@100': number;
  'recall@100': number;
}

export const BEIR_METRIC_NAMES: ReadonlyArray<keyof BeirMetrics> = ['ndcg@10', 'mrr@10', 'map@100', 'recall@100'];

export interface ScoredId {
  id: string;
  score: number;
}

export interface BeirEvaluationOptions {
  /** First stage (default `bm25`): in-memory BM25, exact vector search over a cached LanceDB index, or both fused by RRF. */
  retriever?: FirstStage;
  /** Candidates taken from the first stage and reranked (default 100). */
  depth?: number;
  /** Rerankers to run over each query's candidates, under the names they are reported by. */
  rerankers?: ReadonlyArray<{ name: string; ranker: Ranker }>;
  /** How each reranker is also fused with the first stage (default: standardised linear mix, equal weights; it beat RRF on all four of our collections). */
  fuse?: FusionOptions;
  /** Needed by `vector` and `hybrid`. */
  encoder?: SentenceEncoder;
  /** Where the vector index is kept between runs (default: under the model cache, named by corpus and encoder). */
  indexDir?: string;
  /** Evaluate only the first n judged queries (a quick look at a large collection). */
  maxQueries?: number;
  /** Leave out a retrieved document whose id equals the query's (BEIR's default, for collections where they share ids). */
  ignoreIdenticalIds?: boolean;
  /** Keep every system's ranked candidates in `runs` (for TREC run files). */
  keepRuns?: boolean;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface BeirQueryResult {
  queryId: string;
  firstStage: BeirMetrics;
  rerankers: Record<string, BeirMetrics & { fused: BeirMetrics }>;
}

export interface BeirEvaluation {
  dir: string;
  split: string;
  documents: number;
  /** Queries evaluated: judged, with at least one relevant document. */
  queries: number;
  /** Judged queries left out because none of their judged documents is relevant. */
  skipped: number;
  depth: number;
  fusion: Required<FusionOptions>;
  firstStage: { name: FirstStage; metrics: BeirMetrics };
  rerankers: Array<{ name: string; metrics: BeirMetrics; fused: BeirMetrics }>;
  /** Wall time of each step: building or opening the index, the first stage, and each reranker (its fusion is free). */
  seconds: { index: number; firstStage: number; rerankers: Record<string, number>; total: number };
  perQuery: BeirQueryResult[];
  /** System name (`first-stage`, a reranker's name, `<name>+fused`) -> query id -> ranked candidates. */
  runs?: Record<string, Record<string, ScoredId[]>>;
}

/** Orders as trec_eval does: score descending, ties by document id descending. */
export function trecOrder(scored: readonly ScoredId[]): ScoredId[] {
  return [...scored].sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** The four metrics of one query's run against its judgments (negative grades count as 0). */
export function beirMetrics(run: readonly ScoredId[], judged: ReadonlyMap<string, number>): BeirMetrics {
  const labels = new Map([...judged].map(([id, grade]) => [id, Math.max(0, grade)]));
  const ranking = trecOrder(run).map((s) => s.id);
  return {
    'ndcg@10': ndcgAtK(ranking, labels, 10, 'linear'),
    'mrr@10': mrrAtK(ranking, labels, 10),
    'map@100': averagePrecision(ranking, labels, 100),
    'recall@100': recallAtK(ranking, labels, 100),
  };
}

function meanMetrics(rows: readonly BeirMetrics[]): BeirMetrics {
  return Object.fromEntries(BEIR_METRIC_NAMES.map((name) => [name, mean(rows.map((r) => r[name]))])) as unknown as BeirMetrics;
}

/** Default home of a collection's vector index: one folder per corpus content and encoder. */
export function defaultBeirIndexDir(collection: BeirCollection, encoderName: string): string {
  const hash = createHash('sha256');
  for (const d of collection.corpus) hash.update(d.id).update('\0').update(d.text).update('\0');
  hash.update(encoderName);
  return join(defaultCacheDir(), '..', 'beir-index', hash.digest('hex').slice(0, 16));
}

async function openVectorIndex(collection: BeirCollection, encoder: SentenceEncoder, dir: string, onProgress?: BeirEvaluationOptions['onProgress']) {
  let index = await LanceDbRetriever.open(dir, { encoder }).catch(async () => {
    // A folder left by an interrupted build, or by another encoder: it is only a cache, so it is rebuilt.
    await rm(dir, { recursive: true, force: true });
    return LanceDbRetriever.open(dir, { encoder });
  });
  if ((await index.count()) !== collection.corpus.length) {
    await index.close();
    await rm(dir, { recursive: true, force: true });
    index = await LanceDbRetriever.open(dir, { encoder });
    await index.add(collection.corpus.map((d) => ({ id: d.id, text: d.text })), { onProgress: (done, total) => onProgress?.('index', done, total) });
  }
  return index;
}

export async function evaluateBeir(collection: BeirCollection, options: BeirEvaluationOptions = {}): Promise<BeirEvaluation> {
  const started = performance.now();
  const retriever = options.retriever ?? 'bm25';
  if (!FIRST_STAGES.includes(retriever)) throw new InputError(`retriever: expected bm25, vector or hybrid, got ${JSON.stringify(retriever)}`);
  const depth = options.depth ?? 100;
  if (!Number.isInteger(depth) || depth < 1) throw new InputError(`depth: expected a positive integer, got ${depth}`);
  const fusion = checkFusionOptions(options.fuse ?? { method: 'linear' });
  if (retriever !== 'bm25' && !options.encoder) throw new InputError(`encoder: the ${retriever} first stage needs a sentence encoder`);
  const rerankers = options.rerankers ?? [];
  const names = new Set<string>();
  for (const { name } of rerankers) {
    if (names.has(name) || name === 'first-stage') throw new InputError(`rerankers: the name ${JSON.stringify(name)} is used twice`);
    names.add(name);
  }
  const ignoreIdentical = options.ignoreIdenticalIds ?? true;
  const judged = collection.queries.filter((q) => [...collection.qrels.get(q.id)!.values()].some((g) => g > 0));
  const queries = options.maxQueries === undefined ? judged : judged.slice(0, options.maxQueries);
  if (queries.length === 0) throw new InputError(`${collection.dir}: no query of split "${collection.split}" has a relevant document`);
  const textById = new Map(collection.corpus.map((d) => [d.id, d.text]));

  // Index.
  let t = performance.now();
  const bm25 = retriever === 'vector' ? undefined : new Bm25Index(collection.corpus);
  const vectorIndex =
    retriever === 'bm25' ? undefined : await openVectorIndex(collection, options.encoder!, options.indexDir ?? defaultBeirIndexDir(collection, options.encoder!.name), options.onProgress);
  const indexSeconds = (performance.now() - t) / 1000;

  // First stage.
  t = performance.now();
  const candidates = new Map<string, ScoredId[]>();
  try {
    for (const [i, query] of queries.entries()) {
      // One more than the depth, in case the query's own id has to be dropped.
      const take = depth + (ignoreIdentical ? 1 : 0);
      const lexical = bm25?.search(query.text, take).map(({ id, score }) => ({ id, score }));
      const dense = vectorIndex ? (await vectorIndex.search(query.text, { k: take, mode: 'vector' })).map(({ id, score }) => ({ id, score })) : undefined;
      let hits: ScoredId[];
      if (lexical && dense) {
        hits = reciprocalRankFusion([lexical.map((h) => h.id), dense.map((h) => h.id)]).map(({ id, score }) => ({ id, score }));
      } else hits = (lexical ?? dense)!;
      candidates.set(query.id, trecOrder(hits.filter((h) => !(ignoreIdentical && h.id === query.id))).slice(0, depth));
      options.onProgress?.('first stage', i + 1, queries.length);
    }
  } finally {
    await vectorIndex?.close();
  }
  const firstStageSeconds = (performance.now() - t) / 1000;

  const runs: Record<string, Record<string, ScoredId[]>> = { 'first-stage': Object.fromEntries(candidates) };
  const rerankerSeconds: Record<string, number> = {};
  for (const { name, ranker } of rerankers) {
    t = performance.now();
    const reranked: Record<string, ScoredId[]> = {};
    const fused: Record<string, ScoredId[]> = {};
    for (const [i, query] of queries.entries()) {
      const list = candidates.get(query.id)!;
      if (list.length > 0) {
        const scores = await scoresOf(ranker, query.text, list.map((c) => textById.get(c.id)!));
        reranked[query.id] = list.map((c, j) => ({ id: c.id, score: scores[j] }));
        const mixed = fuseScores(
          list.map((c) => c.score),
          scores,
          fusion,
        );
        fused[query.id] = list.map((c, j) => ({ id: c.id, score: mixed[j] }));
      } else {
        reranked[query.id] = [];
        fused[query.id] = [];
      }
      options.onProgress?.(name, i + 1, queries.length);
    }
    rerankerSeconds[name] = (performance.now() - t) / 1000;
    runs[name] = reranked;
    runs[`${name}+fused`] = fused;
  }

  const perQuery: BeirQueryResult[] = queries.map((query) => {
    const labels = collection.qrels.get(query.id)!;
    const row: BeirQueryResult = { queryId: query.id, firstStage: beirMetrics(candidates.get(query.id)!, labels), rerankers: {} };
    for (const { name } of rerankers) {
      row.rerankers[name] = { ...beirMetrics(runs[name][query.id], labels), fused: beirMetrics(runs[`${name}+fused`][query.id], labels) };
    }
    return row;
  });

  return {
    dir: collection.dir,
    split: collection.split,
    documents: collection.corpus.length,
    queries: queries.length,
    skipped: collection.queries.length - judged.length,
    depth,
    fusion,
    firstStage: { name: retriever, metrics: meanMetrics(perQuery.map((q) => q.firstStage)) },
    rerankers: rerankers.map(({ name }) => ({
      name,
      metrics: meanMetrics(perQuery.map((q) => q.rerankers[name])),
      fused: meanMetrics(perQuery.map((q) => q.rerankers[name].fused)),
    })),
    seconds: { index: indexSeconds, firstStage: firstStageSeconds, rerankers: rerankerSeconds, total: (performance.now() - started) / 1000 },
    perQuery,
    ...(options.keepRuns ? { runs } : {}),
  };
}

/** A TREC run file (`qid Q0 docid rank score tag`), ranks 1-based in trec_eval's order. */
export function formatTrecRun(run: Record<string, readonly ScoredId[]>, tag: string): string {
  const lines: string[] = [];
  for (const [query, scored] of Object.entries(run)) {
    trecOrder(scored).forEach((s, i) => lines.push(`${query} Q0 ${s.id} ${i + 1} ${s.score} ${tag}`));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
