/**
 * The source article's simulation, on our data: queries arrive one by one; a miss runs the (pretend) pipeline and
 * caches its result, a hit reuses a cached one. Each query is labelled with the earlier line it paraphrases, or null
 * when it must miss (a first-time question, or a near miss: negated, roles swapped, another entity). A hit is right
 * when it matched a query on the same topic chain: the labelled line, or any line that repeats the same seed.
 */
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import type { JsonLine } from '../util/jsonl.js';
import type { Guard } from './guards.js';
import { SemanticCache, DEFAULT_CACHE_THRESHOLD, type LookupStrategy } from './semantic-cache.js';
import { SqliteCacheStore } from './sqlite-store.js';
import type { Verifier } from './verifier.js';
import { InputError } from '../errors.js';

export type QueryKind = 'seed' | 'paraphrase' | 'near-miss';

export interface SimulationQuery {
  /** 1-based line in the file. */
  line: number;
  query: string;
  /** Line of the earlier query this one paraphrases; null when it must miss. */
  repeats: number | null;
  /** Optional label for reports; near misses are counted separately. */
  kind?: QueryKind;
}

export interface SimulationRow extends SimulationQuery {
  hit: boolean;
  /** Line of the cached query it hit. */
  matched: number | null;
  matchedQuery: string | null;
  score: number | null;
  /** Whether hit/miss was the right answer (and on a hit, the right topic). */
  correct: boolean;
  /** The guard rule that blocked the best candidate above the threshold, if any. */
  veto: string | null;
  timeMs: number;
}

export interface SimulationSummary {
  total: number;
  hits: number;
  misses: number;
  expectedHits: number;
  expectedMisses: number;
  correctHits: number;
  correctMisses: number;
  /** Correct hits / hits; NaN without hits. */
  hitPrecision: number;
  /** Correct misses / misses; NaN without misses. */
  missPrecision: number;
  accuracy: number;
  /** Share of queries that skipped the pipeline (the article's "76% savings"). */
  workSaved: number;
  /** Hits on queries labelled to miss. */
  wrongHits: number;
  nearMisses: number;
  nearMissHits: number;
  /** Paraphrases that missed. */
  missedRepeats: number;
}

export interface SimulationResult {
  threshold: number;
  strategy: LookupStrategy;
  verifier: string;
  rows: SimulationRow[];
  summary: SimulationSummary;
}

export interface SimulationOptions {
  encoder: SentenceEncoder;
  threshold?: number;
  strategy?: LookupStrategy;
  verifier?: Verifier;
  guard?: Guard | null;
}

const KINDS: readonly QueryKind[] = ['seed', 'paraphrase', 'near-miss'];

/** Validates parsed lines; errors read `file:line: "field": expected ..., got ...`. */
export function parseSimulationQueries(rows: readonly JsonLine[], file: string): SimulationQuery[] {
  const lines = new Set(rows.map((r) => r.line));
  const queries = rows.map(({ line, value }) => {
    const at = `${file}:${line}`;
    if (typeof value.query !== 'string' || value.query.trim() === '') throw new InputError(`${at}: "query": expected a non-empty string, got ${JSON.stringify(value.query)}`);
    const repeats = value.repeats === undefined ? null : value.repeats;
    if (repeats !== null && (!Number.isInteger(repeats) || (repeats as number) < 1 || (repeats as number) >= line)) {
      throw new InputError(`${at}: "repeats": expected a line number before ${line} or null, got ${JSON.stringify(repeats)}`);
    }
    if (repeats !== null && !lines.has(repeats as number)) throw new InputError(`${at}: "repeats": line ${repeats} holds no query`);
    if (value.kind !== undefined && !KINDS.includes(value.kind as QueryKind)) {
      throw new InputError(`${at}: "kind": expected one of ${KINDS.join(', ')}, got ${JSON.stringify(value.kind)}`);
    }
    return { line, query: value.query, repeats: repeats as number | null, ...(value.kind !== undefined ? { kind: value.kind as QueryKind } : {}) };
  });
  if (queries.length === 0) throw new InputError(`${file}: no queries in it`);
  return queries;
}

/** The first query of each topic chain: follow `repeats` back to a line that repeats nothing. */
function chainRoots(queries: readonly SimulationQuery[]): Map<number, number> {
  const roots = new Map<number, number>();
  for (const q of queries) roots.set(q.line, q.repeats === null ? q.line : roots.get(q.repeats)!);
  return roots;
}

/** An encoder that encodes each distinct text once, so that threshold sweeps rerun the simulation cheaply. */
export function memoizeEncoder(encoder: SentenceEncoder): SentenceEncoder {
  const known = new Map<string, Float32Array>();
  return {
    name: encoder.name,
    dimension: encoder.dimension,
    async encode(texts, options) {
      const missing = [...new Set(texts.filter((t) => !known.has(t)))];
      if (missing.length > 0) (await encoder.encode(missing, { ...options, normalize: true })).forEach((v, i) => known.set(missing[i], v));
      return texts.map((t) => known.get(t)!);
    },
    // The wrapped encoder stays the caller's to dispose.
    dispose: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
}

function summarise(rows: readonly SimulationRow[]): SimulationSummary {
  const hits = rows.filter((r) => r.hit);
  const misses = rows.filter((r) => !r.hit);
  const correctHits = hits.filter((r) => r.correct).length;
  const correctMisses = misses.filter((r) => r.correct).length;
  const nearMisses = rows.filter((r) => r.kind === 'near-miss');
  return {
    total: rows.length,
    hits: hits.length,
    misses: misses.length,
    expectedHits: rows.filter((r) => r.repeats !== null).length,
    expectedMisses: rows.filter((r) => r.repeats === null).length,
    correctHits,
    correctMisses,
    hitPrecision: hits.length > 0 ? correctHits / hits.length : NaN,
    missPrecision: misses.length > 0 ? correctMisses / misses.length : NaN,
    accuracy: (correctHits + correctMisses) / rows.length,
    workSaved: hits.length / rows.length,
    wrongHits: hits.filter((r) => r.repeats === null).length,
    nearMisses: nearMisses.length,
    nearMissHits: nearMisses.filter((r) => r.hit).length,
    missedRepeats: misses.filter((r) => r.repeats !== null).length,
  };
}

/** Runs the queries through a fresh in-memory cache, in file order. */
export async function simulateCache(queries: readonly SimulationQuery[], options: SimulationOptions): Promise<SimulationResult> {
  const roots = chainRoots(queries);
  const cache = await SemanticCache.open({
    encoder: options.encoder,
    store: await SqliteCacheStore.open(':memory:'),
    threshold: options.threshold ?? DEFAULT_CACHE_THRESHOLD,
    strategy: options.strategy ?? 'two-step',
    verifier: options.verifier,
    guard: options.guard,
  });
  const rows: SimulationRow[] = [];
  try {
    for (const q of queries) {
      const lookup = await cache.lookup<{ line: number }>(q.query);
      const matched = lookup.hit ? lookup.value!.line : null;
      // What the article's pipeline would produce; any JSON value would do.
      if (!lookup.hit) await cache.store(q.query, { line: q.line, result: `ranked results for line ${q.line}` }, { key: `line:${q.line}` });
      const correct = q.repeats === null ? !lookup.hit : lookup.hit && roots.get(matched!) === roots.get(q.line);
      rows.push({
        ...q,
        hit: lookup.hit,
        matched,
        matchedQuery: lookup.matched?.query ?? null,
        score: lookup.score,
        correct,
        veto: lookup.vetoed.length > 0 ? `${lookup.vetoed[0].veto.rule}: ${lookup.vetoed[0].veto.detail}` : null,
        timeMs: lookup.timings.totalMs,
      });
    }
  } finally {
    await cache.close();
  }
  return { threshold: cache.threshold, strategy: cache.strategy, verifier: cache.verifier.name, rows, summary: summarise(rows) };
}

export interface SweepRow {
  threshold: number;
  hits: number;
  correctHits: number;
  wrongHits: number;
  nearMissHits: number;
  missedRepeats: number;
  hitPrecision: number;
  accuracy: number;
  workSaved: number;
}

/** The simulation at each threshold: how hit rate trades against wrong hits. Encodes each query once. */
export async function sweepSimulation(queries: readonly SimulationQuery[], thresholds: readonly number[], options: SimulationOptions): Promise<SweepRow[]> {
  const encoder = memoizeEncoder(options.encoder);
  const rows: SweepRow[] = [];
  for (const threshold of thresholds) {
    const { summary: s } = await simulateCache(queries, { ...options, encoder, threshold });
    rows.push({
      threshold,
      hits: s.hits,
      correctHits: s.correctHits,
      wrongHits: s.hits - s.correctHits,
      nearMissHits: s.nearMissHits,
      missedRepeats: s.missedRepeats,
      hitPrecision: s.hitPrecision,
      accuracy: s.accuracy,
      workSaved: s.workSaved,
    });
  }
  return rows;
}
