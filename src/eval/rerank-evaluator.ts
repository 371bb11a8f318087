/**
 * Reranking quality over a set of queries, each with its own candidate documents and relevance labels: nDCG@k,
 * MRR@k, MAP and recall at several cut-offs, averaged over queries. Metric names follow sentence-transformers'
 * evaluators (`ndcg@10`, `mrr@10`, `map`, `recall@5`) and are the same in the report, the JSON and `metricsByName`.
 */
import type { Ranker } from '../rank/results.js';
import { averagePrecision, mean, mrrAtK, ndcgAtK, recallAtK } from './ir-metrics.js';
import { InputError } from '../errors.js';

export interface RerankQuery {
  query: string;
  documents: string[];
  /** Indices into `documents` of the relevant ones (grade 1). */
  relevant?: number[];
  /** Graded labels by document index ("3": 2); unlisted documents have grade 0. Give this or `relevant`, not both. */
  relevance?: Record<string, number>;
}

export interface RerankEvalOptions {
  /** Cut-off for nDCG and MRR (default 10). */
  k?: number;
  /** Cut-offs for recall (default 1, 5 and 10). */
  recallAt?: number[];
  /** Called after each query with the number of queries ranked so far. */
  onProgress?: (queriesDone: number) => void;
}

export interface RerankQueryResult {
  query: string;
  documents: number;
  /** Documents with a grade above 0. */
  relevantCount: number;
  /** Document indices, best first, as the ranker ordered them. */
  ranking: number[];
  ndcg: number;
  mrr: number;
  ap: number;
  recall: Record<number, number>;
}

export interface RerankEvaluation {
  model: string;
  k: number;
  recallAt: number[];
  queries: number;
  /** Queries with at least one relevant document: the ones the means are taken over. */
  evaluated: number;
  /**
   * Queries without a relevant document. They are ranked and listed in `perQuery` (every metric 0) but left out of
   * the means, as sentence-transformers and trec_eval do: no ranking can do well on them, so counting them would
   * only lower every model's score by the same amount.
   */
  skipped: number;
  ndcg: number;
  mrr: number;
  map: number;
  recall: Record<number, number>;
  perQuery: RerankQueryResult[];
}

/**
 * Checks one query as read from JSON and returns it with its labels as a map from document index to grade; the
 * error names the offending field, and callers add where the query came from.
 */
export function parseRerankQuery(value: unknown): { query: RerankQuery; labels: Map<number, number> } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('expected a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v.query !== 'string' || v.query.trim() === '') throw new InputError('field "query" must be a non-empty string');
  if (!Array.isArray(v.documents) || v.documents.length === 0) throw new InputError('field "documents" must be a non-empty array of strings');
  v.documents.forEach((d, i) => {
    if (typeof d !== 'string') throw new InputError(`field "documents[${i}]" must be a string`);
  });
  const n = v.documents.length;
  if (v.relevant !== undefined && v.relevance !== undefined) throw new InputError('give either field "relevant" or field "relevance", not both');
  const labels = new Map<number, number>();
  if (v.relevance !== undefined) {
    if (typeof v.relevance !== 'object' || v.relevance === null || Array.isArray(v.relevance)) {
      throw new InputError('field "relevance" must be an object mapping document indices to grades');
    }
    for (const [key, grade] of Object.entries(v.relevance)) {
      // Only canonical integers: "01" or "1.0" would silently name the same document as "1".
      if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= n) {
        throw new InputError(`field "relevance" has key "${key}": expected a document index from 0 to ${n - 1}`);
      }
      if (typeof grade !== 'number' || !Number.isFinite(grade) || grade < 0) {
        throw new InputError(`field "relevance.${key}" must be a number >= 0`);
      }
      labels.set(Number(key), grade);
    }
  } else {
    if (!Array.isArray(v.relevant)) throw new InputError('field "relevant" must be an array of document indices (or give "relevance")');
    v.relevant.forEach((index, i) => {
      if (!Number.isInteger(index) || index < 0 || index >= n) {
        throw new InputError(`field "relevant[${i}]" must be a document index from 0 to ${n - 1}, got ${JSON.stringify(index)}`);
      }
      if (labels.has(index)) throw new InputError(`field "relevant" lists document ${index} twice`);
      labels.set(index, 1);
    });
  }
  const query: RerankQuery = { query: v.query, documents: v.documents as string[] };
  if (v.relevance !== undefined) query.relevance = Object.fromEntries([...labels].map(([i, g]) => [String(i), g]));
  else query.relevant = [...labels.keys()];
  return { query, labels };
}

function checkCutoffs(values: readonly number[], name: string): number[] {
  for (const v of values) if (!Number.isInteger(v) || v < 1) throw new InputError(`${name}: expected positive integers, got ${v}`);
  return [...new Set(values)].sort((a, b) => a - b);
}

export async function evaluateReranking(ranker: Ranker, queries: readonly RerankQuery[], options: RerankEvalOptions = {}): Promise<RerankEvaluation> {
  const k = options.k ?? 10;
  if (!Number.isInteger(k) || k < 1) throw new InputError(`k: expected a positive integer, got ${k}`);
  const recallAt = checkCutoffs(options.recallAt ?? [1, 5, 10], 'recallAt');
  if (queries.length === 0) throw new InputError('queries: expected at least one query');
  // Check everything first, so a bad query near the end fails before minutes of ranking rather than after.
  const parsed = queries.map((q, i) => {
    try {
      return parseRerankQuery(q);
    } catch (error) {
      throw new InputError(`queries[${i}]: ${(error as Error).message}`);
    }
  });
  if (parsed.every(({ labels }) => [...labels.values()].every((g) => g === 0))) {
    throw new InputError('queries: no query has a relevant document, so there is nothing to measure');
  }

  const perQuery: RerankQueryResult[] = [];
  for (const { query, labels } of parsed) {
    const ranked = await ranker.rank(query.query, query.documents, { returnDocuments: false });
    const ranking = ranked.results.map((r) => r.index);
    const recall: Record<number, number> = {};
    for (const cut of recallAt) recall[cut] = recallAtK(ranking, labels, cut);
    perQuery.push({
      query: query.query,
      documents: query.documents.length,
      relevantCount: [...labels.values()].filter((g) => g > 0).length,
      ranking,
      ndcg: ndcgAtK(ranking, labels, k),
      mrr: mrrAtK(ranking, labels, k),
      ap: averagePrecision(ranking, labels),
      recall,
    });
    options.onProgress?.(perQuery.length);
  }

  const counted = perQuery.filter((q) => q.relevantCount > 0);
  const recall: Record<number, number> = {};
  for (const cut of recallAt) recall[cut] = mean(counted.map((q) => q.recall[cut]));
  return {
    model: ranker.name,
    k,
    recallAt,
    queries: perQuery.length,
    evaluated: counted.length,
    skipped: perQuery.length - counted.length,
    ndcg: mean(counted.map((q) => q.ndcg)),
    mrr: mean(counted.map((q) => q.mrr)),
    map: mean(counted.map((q) => q.ap)),
    recall,
    perQuery,
  };
}

/** The averaged metrics under their printed names, in report order: `ndcg@10`, `mrr@10`, `map`, `recall@1`, ... */
export function metricsByName(result: RerankEvaluation): Record<string, number> {
  return named(result.k, result.ndcg, result.mrr, ['map', result.map], result.recall);
}

/** One query's metrics under the same names, with its average precision as `ap`. */
export function queryMetricsByName(query: RerankQueryResult, k: number): Record<string, number> {
  return named(k, query.ndcg, query.mrr, ['ap', query.ap], query.recall);
}

function named(k: number, ndcg: number, mrr: number, precision: [string, number], recall: Record<number, number>): Record<string, number> {
  const out: Record<string, number> = { [`ndcg@${k}`]: ndcg, [`mrr@${k}`]: mrr, [precision[0]]: precision[1] };
  for (const [cut, value] of Object.entries(recall).sort(([a], [b]) => Number(a) - Number(b))) out[`recall@${cut}`] = value;
  return out;
}
