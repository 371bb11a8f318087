/**
 * The prefilter of the two-step cache: an HNSW graph (hnswlib) over unit query vectors with inner-product distance,
 * so `1 - distance` is the cosine. It lives in process memory and is rebuilt from the store on open; labels are the
 * store's entry ids.
 */
import type { HierarchicalNSW } from 'hnswlib-node';
import { InputError, requireOptional } from '../errors.js';

const hnswlib = () => requireOptional<typeof import('hnswlib-node')>('hnswlib-node', "The semantic cache's vector index");

export interface VectorIndexOptions {
  /** Graph degree (hnswlib's M, default 16). */
  m?: number;
  /** Candidate list while building (default 64): higher builds slower and finds neighbours more reliably. */
  efConstruction?: number;
  /** Candidate list while searching (default 64); raised to k when k is larger. */
  efSearch?: number;
  /** Room reserved at start; the index doubles when full (default 1024). */
  initialCapacity?: number;
  seed?: number;
}

export interface Neighbour {
  label: number;
  /** Cosine similarity of unit vectors (inner product). */
  score: number;
}

export class VectorIndex {
  private readonly index: HierarchicalNSW;
  private readonly labels = new Set<number>();
  private capacity: number;
  private readonly efSearch: number;

  constructor(
    readonly dimension: number,
    options: VectorIndexOptions = {},
  ) {
    if (!Number.isInteger(dimension) || dimension < 1) throw new InputError(`dimension: expected a positive integer, got ${dimension}`);
    this.capacity = options.initialCapacity ?? 1024;
    this.efSearch = options.efSearch ?? 64;
    this.index = new (hnswlib().HierarchicalNSW)('ip', dimension);
    // allowReplaceDeleted: slots of evicted entries are reused, so a long-running cache does not grow without bound.
    this.index.initIndex(this.capacity, options.m ?? 16, options.efConstruction ?? 64, options.seed ?? 100, true);
    this.index.setEf(this.efSearch);
  }

  get size(): number {
    return this.labels.size;
  }

  has(label: number): boolean {
    return this.labels.has(label);
  }

  add(label: number, vector: Float32Array): void {
    if (vector.length !== this.dimension) throw new InputError(`vector: expected ${this.dimension} values, got ${vector.length}`);
    if (this.labels.has(label)) return;
    // hnswlib counts deleted slots as occupied; grow only when none of them is left to reuse.
    const held = this.index.getCurrentCount();
    if (held >= this.capacity && held === this.labels.size) {
      this.capacity *= 2;
      this.index.resizeIndex(this.capacity);
    }
    // hnswlib-node only accepts plain arrays; replaceDeleted reuses a deleted slot when there is one.
    this.index.addPoint(Array.from(vector), label, true);
    this.labels.add(label);
  }

  remove(label: number): void {
    if (!this.labels.delete(label)) return;
    this.index.markDelete(label);
  }

  /** The k nearest live vectors, best first. */
  nearest(vector: Float32Array, k: number): Neighbour[] {
    const n = Math.min(k, this.labels.size);
    if (n <= 0) return [];
    this.index.setEf(Math.max(this.efSearch, n));
    const { neighbors, distances } = this.index.searchKnn(Array.from(vector), n);
    const found = neighbors.map((label, i) => ({ label, score: 1 - distances[i] }));
    return found.sort((a, b) => b.score - a.score);
  }
}
