/**
 * A semantic query cache: a new query that means the same as a cached one gets the cached value instead of a new
 * run of the (expensive) search / rerank / generate pipeline.
 *
 * The source article scored each new query against every cached query with a duplicate-question cross-encoder: O(n)
 * model calls per lookup. Here a lookup is two steps: an HNSW index over the cached queries' vectors finds the few
 * nearest, and a verifier scores only those against a threshold; guards then veto candidates that contradict the
 * query (enable vs disable, to vs from). `strategy: 'scan'` keeps the article's way (verifier over every entry) for
 * comparison. Entries live in a CacheStore (SQLite or Redis) with TTL, an LRU size bound and invalidation.
 */
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import { contradiction, type Guard, type GuardVeto } from './guards.js';
import type { CacheCounters, CacheStore, StoredEntry } from './store.js';
import { VectorIndex, type VectorIndexOptions } from './vector-index.js';
import { CosineVerifier, type Verifier, type VerifyItem } from './verifier.js';
import { InputError } from '../errors.js';

/**
 * Cosine threshold for the default verifier with the default encoder (USE Lite) and the default guard. Obtained with
 * `rankwise cache calibrate --pairs datasets/cache/pairs.jsonl --precision-target 0.75`: the most recall among
 * thresholds whose precision on the 82 labelled pairs is at least 75% (10 of 13 predicted duplicates right, recall
 * 26%). Maximum F1 picks 0.47 there, which on the simulation serves wrong answers for most hits: for a cache a wrong
 * hit costs more than a miss, so precision decides. Test cache-calibrate recalibrates and checks it within 0.02.
 * Another encoder or a cross-encoder verifier needs its own threshold.
 */
export const DEFAULT_CACHE_THRESHOLD = 0.8263;

export type LookupStrategy = 'two-step' | 'scan';

export interface SemanticCacheOptions {
  encoder: SentenceEncoder;
  store: CacheStore;
  /** Default: cosine of the encoder's vectors. */
  verifier?: Verifier;
  /** A candidate hits when its verifier score is at least this (default DEFAULT_CACHE_THRESHOLD). */
  threshold?: number;
  /** 'two-step' (default): nearest neighbours, then verify; 'scan': verify every cached query (the article's way). */
  strategy?: LookupStrategy;
  /** How many nearest cached queries the verifier sees (default 5). */
  candidates?: number;
  /** Lifetime of an entry in ms from when it was stored; null (the default) keeps entries until evicted. */
  ttlMs?: number | null;
  /** Size bound: beyond it the least recently used entries go (default 10,000). */
  maxEntries?: number;
  /** Default: `contradiction` from guards.ts; null turns guarding off. */
  guard?: Guard | null;
  /** Clock in epoch ms (tests move it to expire entries). */
  now?: () => number;
  index?: VectorIndexOptions;
}

export interface CacheMatch {
  id: number;
  key: string;
  query: string;
}

export interface VetoedCandidate extends CacheMatch {
  score: number;
  veto: GuardVeto;
}

export interface LookupTimings {
  encodeMs: number;
  /** Finding candidates: the index search (two-step), or the verifier over every entry (scan). */
  searchMs: number;
  /** The rest: the verifier on the nearest few (two-step), guards, the store read and bookkeeping. */
  verifyMs: number;
  totalMs: number;
}

export interface LookupOptions<V> {
  /** Overrides the cache's strategy for this call. */
  strategy?: LookupStrategy;
  /**
   * Whether a cached value still answers the query (say, it was computed on the current version of an index): a
   * rejected match is no hit. It is counted as `stale`, the next match is tried, and without one the lookup is a miss.
   */
  accept?: (value: V) => boolean;
}

export interface LookupResult<V = unknown> {
  hit: boolean;
  value: V | undefined;
  matched: CacheMatch | null;
  /** Score of the match, or on a miss the best score seen (null when there was nothing to compare with). */
  score: number | null;
  /** Candidates above the threshold that a guard rejected. */
  vetoed: VetoedCandidate[];
  timings: LookupTimings;
}

export interface StoreOptions {
  /** Key for invalidation; default the query lower-cased with spaces collapsed. Same key replaces the old entry. */
  key?: string;
  /** Overrides the cache's TTL for this entry. */
  ttlMs?: number | null;
  /** A vector already computed for this query (skips the encoder). */
  vector?: Float32Array;
}

export interface CacheStats extends CacheCounters {
  entries: number;
  /** hits / (hits + misses); 0 before the first lookup. */
  hitRate: number;
}

interface LocalEntry extends CacheMatch, VerifyItem {
  expiresAt: number | null;
}

/** Entries read per round trip while catching up with the store. */
const SYNC_PAGE = 1000;
/** Accepted candidates read from the store per round of a lookup. */
const ACCEPTED_PER_ROUND = 3;
/** Recently encoded queries, so that a miss followed by store() encodes once. */
const VECTOR_MEMO = 256;

export function cacheKey(query: string): string {
  return query.trim().toLowerCase().replace(/\s+/g, ' ');
}

function checkOptions(options: SemanticCacheOptions): void {
  const { threshold, candidates, ttlMs, maxEntries, strategy } = options;
  if (threshold !== undefined && !Number.isFinite(threshold)) throw new InputError(`threshold: expected a number, got ${threshold}`);
  if (candidates !== undefined && (!Number.isInteger(candidates) || candidates < 1)) throw new InputError(`candidates: expected a positive integer, got ${candidates}`);
  if (ttlMs !== undefined && ttlMs !== null && !(ttlMs > 0)) throw new InputError(`ttlMs: expected a positive number of milliseconds or null, got ${ttlMs}`);
  if (maxEntries !== undefined && (!Number.isInteger(maxEntries) || maxEntries < 1)) throw new InputError(`maxEntries: expected a positive integer, got ${maxEntries}`);
  if (strategy !== undefined && strategy !== 'two-step' && strategy !== 'scan') throw new InputError(`strategy: expected "two-step" or "scan", got ${JSON.stringify(strategy)}`);
}

export class SemanticCache {
  readonly threshold: number;
  readonly strategy: LookupStrategy;
  readonly verifier: Verifier;
  private readonly encoder: SentenceEncoder;
  private readonly backend: CacheStore;
  private readonly candidates: number;
  private readonly ttlMs: number | null;
  private readonly maxEntries: number;
  private readonly guard: Guard | null;
  private readonly now: () => number;
  private readonly index: VectorIndex;
  /** What this process knows of the store: the index's entries, for verifying and scanning without a round trip. */
  private readonly local = new Map<number, LocalEntry>();
  private readonly idOfKey = new Map<string, number>();
  /** Highest store id this process has read; entries above it were added by others since. */
  private cursor = 0;
  private readonly memo = new Map<string, Float32Array>();

  private constructor(options: SemanticCacheOptions) {
    this.encoder = options.encoder;
    this.backend = options.store;
    this.verifier = options.verifier ?? new CosineVerifier();
    this.threshold = options.threshold ?? DEFAULT_CACHE_THRESHOLD;
    this.strategy = options.strategy ?? 'two-step';
    this.candidates = options.candidates ?? 5;
    this.ttlMs = options.ttlMs ?? null;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.guard = options.guard === undefined ? contradiction : options.guard;
    this.now = options.now ?? Date.now;
    this.index = new VectorIndex(this.encoder.dimension, options.index);
  }

  /** Opens a cache over `store` and rebuilds the vector index from the entries already in it. */
  static async open(options: SemanticCacheOptions): Promise<SemanticCache> {
    checkOptions(options);
    const meta = await options.store.meta();
    const mine = { encoder: options.encoder.name, dimension: options.encoder.dimension };
    if (meta && (meta.encoder !== mine.encoder || meta.dimension !== mine.dimension)) {
      throw new InputError(
        `encoder: this ${options.store.kind} cache holds vectors from "${meta.encoder}" (${meta.dimension}-d), not "${mine.encoder}" (${mine.dimension}-d); use that encoder or another cache`,
      );
    }
    if (!meta) await options.store.setMeta(mine);
    const cache = new SemanticCache(options);
    await cache.sync();
    return cache;
  }

  /** Entries this process has indexed (may include some another replica removed since; lookups drop those). */
  get indexedEntries(): number {
    return this.local.size;
  }

  /** Reads entries other processes added since the last call into the index; returns how many were new. */
  async sync(): Promise<number> {
    const now = this.now();
    let added = 0;
    for (;;) {
      const page = await this.backend.entriesAfter(this.cursor, SYNC_PAGE);
      for (const entry of page) {
        this.cursor = Math.max(this.cursor, entry.id);
        if (entry.expiresAt !== null && entry.expiresAt <= now) continue;
        if (this.addLocal(entry)) added++;
      }
      if (page.length < SYNC_PAGE) return added;
    }
  }

  /** The cached value for `query` or for a query that means the same; `strategy` overrides the cache's for one call. */
  async lookup<V = unknown>(query: string, options: LookupOptions<V> = {}): Promise<LookupResult<V>> {
    const strategy = options.strategy ?? this.strategy;
    const start = performance.now();
    await this.sync();
    const now = this.now();
    const vector = await this.embed(query);
    const encoded = performance.now();

    const vetoed: VetoedCandidate[] = [];
    let best: number | null = null;
    let searchMs = 0;
    let stale = 0;
    const rejected = new Set<number>();
    // A second round only when every accepted candidate turned out to be gone from the store (another replica
    // evicted or invalidated it): the index has dropped them, so the next nearest get their turn.
    for (let round = 0; round < 3; round++) {
      const searchStart = performance.now();
      const candidates = this.liveCandidates(vector, now, strategy).filter((entry) => !rejected.has(entry.id));
      const found = performance.now();
      const scores = await this.verifier.score({ text: query, vector }, candidates);
      // The scan finds its best match by scoring everything, so its scoring is its search.
      searchMs += (strategy === 'scan' ? performance.now() : found) - searchStart;
      const accepted: Array<{ entry: LocalEntry; score: number }> = [];
      // Only candidates above the threshold are ordered: a scan over every entry must not sort them all.
      const above: Array<{ entry: LocalEntry; score: number }> = [];
      for (let i = 0; i < scores.length; i++) {
        if (best === null || scores[i] > best) best = scores[i];
        if (scores[i] >= this.threshold) above.push({ entry: candidates[i], score: scores[i] });
      }
      for (const c of above.sort((a, b) => b.score - a.score)) {
        // A few accepted ones are enough: the best answers unless another replica has just removed it.
        if (accepted.length === ACCEPTED_PER_ROUND) break;
        const veto = this.guard?.(query, c.entry.query) ?? null;
        if (veto) {
          if (round === 0) vetoed.push({ id: c.entry.id, key: c.entry.key, query: c.entry.query, score: c.score, veto });
        } else {
          accepted.push(c);
        }
      }
      if (accepted.length === 0) break;
      const stored = await this.backend.get(accepted.map((c) => c.entry.id), now);
      for (const c of accepted) {
        const entry = stored.get(c.entry.id);
        if (!entry) {
          this.dropLocal(c.entry.id);
          continue;
        }
        if (options.accept && !options.accept(entry.value as V)) {
          stale++;
          rejected.add(entry.id);
          continue;
        }
        await this.backend.touch(entry.id, now);
        await this.backend.addCounters({ hits: 1, stale });
        return {
          hit: true,
          value: entry.value as V,
          matched: { id: entry.id, key: entry.key, query: entry.query },
          score: c.score,
          vetoed,
          timings: this.timings(start, encoded, searchMs),
        };
      }
    }
    await this.backend.addCounters({ misses: 1, stale });
    return { hit: false, value: undefined, matched: null, score: best, vetoed, timings: this.timings(start, encoded, searchMs) };
  }

  /** Caches `value` (any JSON value) as the answer to `query`; returns the entry id. */
  async store(query: string, value: unknown, options: StoreOptions = {}): Promise<number> {
    const [id] = await this.storeMany([{ query, value, ...options }]);
    return id;
  }

  /** Several entries in one call and one store transaction; what a bulk load or a benchmark uses. */
  async storeMany(items: ReadonlyArray<{ query: string; value: unknown } & StoreOptions>): Promise<number[]> {
    const now = this.now();
    const entries = [];
    for (const item of items) {
      const ttl = item.ttlMs === undefined ? this.ttlMs : item.ttlMs;
      if (ttl !== null && !(ttl > 0)) throw new InputError(`ttlMs: expected a positive number of milliseconds or null, got ${ttl}`);
      const vector = item.vector ?? (await this.embed(item.query));
      if (vector.length !== this.encoder.dimension) throw new InputError(`vector: expected ${this.encoder.dimension} values, got ${vector.length}`);
      entries.push({ key: item.key ?? cacheKey(item.query), query: item.query, vector, value: item.value, expiresAt: ttl === null ? null : now + ttl });
    }
    const stored = await this.backend.put(entries, now);
    for (const entry of stored) this.addLocal(entry);
    const expired = await this.backend.purgeExpired(now);
    const evicted = await this.backend.evictLeastRecentlyUsed(this.maxEntries);
    for (const id of [...expired, ...evicted]) this.dropLocal(id);
    await this.backend.addCounters({ stores: stored.length, expirations: expired.length, evictions: evicted.length });
    return stored.map((e) => e.id);
  }

  /** The cached value when a paraphrase is cached; otherwise runs `compute`, caches its result and returns it. */
  async getOrCompute<V>(query: string, compute: (query: string) => Promise<V>): Promise<{ value: V; hit: boolean; lookup: LookupResult<V> }> {
    const lookup = await this.lookup<V>(query);
    if (lookup.hit) return { value: lookup.value as V, hit: true, lookup };
    const value = await compute(query);
    await this.store(query, value);
    return { value, hit: false, lookup };
  }

  /** Removes the entry stored under `key` (default keys: the normalised query, see cacheKey); returns how many went. */
  async invalidate(key: string): Promise<number> {
    const ids = await this.backend.removeKey(key);
    for (const id of ids) this.dropLocal(id);
    await this.backend.addCounters({ invalidations: ids.length });
    return ids.length;
  }

  /** Empties the cache (for every process sharing the store); returns how many entries there were. */
  async invalidateAll(): Promise<number> {
    const removed = await this.backend.clear();
    for (const id of [...this.local.keys()]) this.dropLocal(id);
    await this.backend.addCounters({ invalidations: removed });
    return removed;
  }

  async stats(): Promise<CacheStats> {
    const [counters, entries] = await Promise.all([this.backend.counters(), this.backend.count(this.now())]);
    const lookups = counters.hits + counters.misses;
    return { ...counters, entries, hitRate: lookups > 0 ? counters.hits / lookups : 0 };
  }

  /** Closes the store; the encoder and verifier belong to the caller. */
  async close(): Promise<void> {
    await this.backend.close();
  }

  private async embed(query: string): Promise<Float32Array> {
    const known = this.memo.get(query);
    if (known) return known;
    const [vector] = await this.encoder.encode([query], { normalize: true });
    if (this.memo.size >= VECTOR_MEMO) this.memo.delete(this.memo.keys().next().value!);
    this.memo.set(query, vector);
    return vector;
  }

  /** Two-step: the nearest few from the index; scan: every entry. Expired ones are dropped on the way. */
  private liveCandidates(vector: Float32Array, now: number, strategy: LookupStrategy): LocalEntry[] {
    const pool =
      strategy === 'scan'
        ? [...this.local.values()]
        : this.index.nearest(vector, this.candidates).flatMap((n) => this.local.get(n.label) ?? []);
    const live: LocalEntry[] = [];
    for (const entry of pool) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) this.dropLocal(entry.id);
      else live.push(entry);
    }
    return live;
  }

  private addLocal(entry: StoredEntry): boolean {
    if (this.local.has(entry.id)) return false;
    const previous = this.idOfKey.get(entry.key);
    if (previous !== undefined && previous < entry.id) this.dropLocal(previous);
    else if (previous !== undefined) return false;
    this.local.set(entry.id, { id: entry.id, key: entry.key, query: entry.query, text: entry.query, vector: entry.vector, expiresAt: entry.expiresAt });
    this.idOfKey.set(entry.key, entry.id);
    this.index.add(entry.id, entry.vector);
    return true;
  }

  private dropLocal(id: number): void {
    const entry = this.local.get(id);
    if (!entry) return;
    this.local.delete(id);
    if (this.idOfKey.get(entry.key) === id) this.idOfKey.delete(entry.key);
    this.index.remove(id);
  }

  private timings(start: number, encoded: number, searchMs: number): LookupTimings {
    const end = performance.now();
    const totalMs = end - start;
    return { encodeMs: encoded - start, searchMs, verifyMs: totalMs - (encoded - start) - searchMs, totalMs };
  }
}
