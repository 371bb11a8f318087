/**
 * Where a semantic cache keeps its entries. Every backend (embedded SQLite, shared Redis) holds the same things: the
 * cached query, its vector (so that any process can rebuild its nearest-neighbour index), the caller's value, and the
 * bookkeeping for TTL and LRU eviction. The store is the source of truth; the in-process vector index is a
 * prefilter that may lag behind it (another replica evicted an entry) and is corrected on read.
 */
import { InputError } from '../errors.js';

/** One cached query as the store returns it. */
export interface StoredEntry {
  /** Assigned by the store, strictly increasing in insertion order and never reused: replicas tail by it. */
  id: number;
  /** The caller's key for explicit invalidation (the normalised query text unless the caller chose one). */
  key: string;
  query: string;
  /** Unit-length query vector from the cache's encoder. */
  vector: Float32Array;
  /** Whatever the caller's pipeline produced (any JSON value). */
  value: unknown;
  createdAt: number;
  /** Epoch ms after which the entry is gone; null = no TTL. */
  expiresAt: number | null;
}

export interface NewEntry {
  key: string;
  query: string;
  vector: Float32Array;
  value: unknown;
  expiresAt: number | null;
}

/** Counters shared by every process that uses the same store. */
export interface CacheCounters {
  hits: number;
  misses: number;
  stores: number;
  evictions: number;
  expirations: number;
  invalidations: number;
  /** Matches the caller rejected as out of date (see LookupOptions.accept); each such lookup also counts as a miss. */
  stale: number;
}

export const COUNTER_NAMES = ['hits', 'misses', 'stores', 'evictions', 'expirations', 'invalidations', 'stale'] as const satisfies ReadonlyArray<keyof CacheCounters>;

/** Which encoder filled the store: vectors from another encoder are not comparable, so opening with one is an error. */
export interface StoreMeta {
  encoder: string;
  dimension: number;
}

export interface CacheStore {
  /** 'sqlite', 'redis', ... for messages and stats. */
  readonly kind: string;
  meta(): Promise<StoreMeta | null>;
  setMeta(meta: StoreMeta): Promise<void>;
  /**
   * Entries with id > `afterId`, in id order, at most `limit`: how an index catches up. Expired entries not yet purged
   * are included (the caller skips them), so that a page of them cannot end the tail early.
   */
  entriesAfter(afterId: number, limit: number): Promise<StoredEntry[]>;
  /** The live entries among `ids` (missing, expired or invalidated ones are absent from the map). */
  get(ids: readonly number[], now: number): Promise<Map<number, StoredEntry>>;
  /** Adds entries (atomically: all or none); an entry whose key already exists replaces the old one (the new one gets a new id). */
  put(entries: readonly NewEntry[], now: number): Promise<StoredEntry[]>;
  /** Marks an entry as used now, for LRU eviction. */
  touch(id: number, now: number): Promise<void>;
  /** Removes the entry stored under `key`; returns the ids removed. */
  removeKey(key: string): Promise<number[]>;
  /** Removes everything; returns how many entries there were. */
  clear(): Promise<number>;
  /** Removes entries whose TTL has passed; returns their ids. */
  purgeExpired(now: number): Promise<number[]>;
  /** Removes least recently used entries until at most `maxEntries` remain; returns their ids. */
  evictLeastRecentlyUsed(maxEntries: number): Promise<number[]>;
  count(now: number): Promise<number>;
  addCounters(delta: Partial<CacheCounters>): Promise<void>;
  counters(): Promise<CacheCounters>;
  close(): Promise<void>;
}

export function emptyCounters(): CacheCounters {
  return { hits: 0, misses: 0, stores: 0, evictions: 0, expirations: 0, invalidations: 0, stale: 0 };
}

/** JSON text of a cached value; undefined, functions and symbols have no JSON form and are refused. */
export function serializeValue(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InputError(`value: expected a JSON value, ${(error as Error).message}`);
  }
  if (text === undefined) throw new InputError(`value: expected a JSON value, got ${typeof value}`);
  return text;
}

/** Float32 vector -> bytes (little-endian, as the machine stores it) and back, copying so alignment is never an issue. */
export function vectorToBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
}

export function bytesToVector(bytes: Uint8Array, dimension?: number): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new InputError(`vector: ${bytes.byteLength} bytes is not a whole number of float32 values`);
  const vector = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (dimension !== undefined && vector.length !== dimension) throw new InputError(`vector: expected ${dimension} values, got ${vector.length}`);
  return vector;
}
