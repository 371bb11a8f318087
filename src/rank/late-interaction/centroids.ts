/**
 * The candidate step for large indexes, after PLAID: token vectors are clustered (spherical k-means, seeded), each
 * token keeps only its centroid's number, and a query probes the few centroids nearest each of its tokens; only
 * documents with a token in a probed cluster are scored exactly.
 */
import { SeededRandom } from '../../models/random.js';
import type { DotEngine } from './dot-engine.js';
import { InputError } from '../../errors.js';

export interface CentroidTrainingOptions {
  count: number;
  seed: number;
  /** Lloyd iterations (default 8). */
  iterations?: number;
  /** Tokens sampled for training (default 64 per centroid): assignment of every token happens afterwards. */
  sample?: number;
}

/** Rows per engine call when assigning: bounds the temporary similarity matrix to rows x centroids. */
const ASSIGN_ROWS = 4096;

/** Index of each row's nearest centroid (largest dot product; vectors and centroids are unit length). */
export async function nearestCentroids(
  engine: DotEngine,
  vectors: Float32Array,
  rows: number,
  centroids: Float32Array,
  count: number,
  dim: number,
): Promise<Uint16Array> {
  if (count > 65536) throw new InputError(`centroids: at most 65536 supported, got ${count}`);
  const codes = new Uint16Array(rows);
  for (let from = 0; from < rows; from += ASSIGN_ROWS) {
    const n = Math.min(ASSIGN_ROWS, rows - from);
    const sims = await engine.dotsNT(vectors.subarray(from * dim, (from + n) * dim), n, centroids, count, dim);
    for (let r = 0; r < n; r++) {
      let best = 0;
      let bestSim = -Infinity;
      const o = r * count;
      for (let c = 0; c < count; c++) {
        if (sims[o + c] > bestSim) {
          bestSim = sims[o + c];
          best = c;
        }
      }
      codes[from + r] = best;
    }
  }
  return codes;
}

function normalizeRows(data: Float32Array, rows: number, dim: number): void {
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (let k = 0; k < dim; k++) n += data[r * dim + k] ** 2;
    n = Math.sqrt(n);
    if (n > 0) for (let k = 0; k < dim; k++) data[r * dim + k] /= n;
  }
}

/** Spherical k-means on a seeded sample of the rows; an emptied cluster is reseeded from a random sampled row. */
export async function trainCentroids(engine: DotEngine, vectors: Float32Array, rows: number, dim: number, options: CentroidTrainingOptions): Promise<Float32Array> {
  const { count, seed } = options;
  const iterations = options.iterations ?? 8;
  if (!Number.isInteger(count) || count < 1 || count > 65536) throw new InputError(`centroids: expected an integer from 1 to 65536, got ${count}`);
  if (rows < count) throw new InputError(`centroids: ${count} centroids need at least as many tokens, the index has ${rows}`);
  const rng = new SeededRandom(seed);
  const sampleSize = Math.min(rows, options.sample ?? count * 64);
  const order = Array.from({ length: rows }, (_, i) => i);
  // Partial Fisher-Yates: the first sampleSize entries become a uniform sample without replacement.
  for (let i = 0; i < sampleSize; i++) {
    const j = i + rng.int(rows - i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const sample = new Float32Array(sampleSize * dim);
  for (let i = 0; i < sampleSize; i++) sample.set(vectors.subarray(order[i] * dim, (order[i] + 1) * dim), i * dim);

  const centroids = sample.slice(0, count * dim);
  for (let iteration = 0; iteration < iterations; iteration++) {
    const codes = await nearestCentroids(engine, sample, sampleSize, centroids, count, dim);
    const sums = new Float32Array(count * dim);
    const sizes = new Int32Array(count);
    for (let i = 0; i < sampleSize; i++) {
      const c = codes[i];
      sizes[c]++;
      for (let k = 0; k < dim; k++) sums[c * dim + k] += sample[i * dim + k];
    }
    for (let c = 0; c < count; c++) {
      if (sizes[c] === 0) {
        const r = rng.int(sampleSize);
        sums.set(sample.subarray(r * dim, (r + 1) * dim), c * dim);
      }
    }
    normalizeRows(sums, count, dim);
    centroids.set(sums);
  }
  return centroids;
}

/** Document lists per centroid: which documents have at least one token in each cluster. */
export function invertedLists(codes: Uint16Array, docStarts: Int32Array, count: number): Int32Array[] {
  const lists: number[][] = Array.from({ length: count }, () => []);
  const lastDoc = new Int32Array(count).fill(-1);
  const nDocs = docStarts.length - 1;
  for (let d = 0; d < nDocs; d++) {
    for (let t = docStarts[d]; t < docStarts[d + 1]; t++) {
      const c = codes[t];
      if (lastDoc[c] !== d) {
        lastDoc[c] = d;
        lists[c].push(d);
      }
    }
  }
  return lists.map((l) => Int32Array.from(l));
}

/** Query token x centroid similarities, [queryTokens x count]: the table both probing and pruning read. */
export function queryCentroidSimilarities(
  engine: DotEngine,
  query: Float32Array,
  queryTokens: number,
  centroids: Float32Array,
  count: number,
  dim: number,
): Promise<Float32Array> {
  return engine.dotsNT(query, queryTokens, centroids, count, dim);
}

/** The `probe` centroids nearest each query token, united. */
export function probedCentroids(sims: Float32Array, queryTokens: number, count: number, probe: number): Set<number> {
  const probed = new Set<number>();
  const k = Math.min(probe, count);
  for (let i = 0; i < queryTokens; i++) {
    const row = Array.from(sims.subarray(i * count, (i + 1) * count), (s, c) => [s, c] as const);
    row.sort((x, y) => y[0] - x[0]);
    for (let j = 0; j < k; j++) probed.add(row[j][1]);
  }
  return probed;
}

/**
 * PLAID's centroid interaction: MaxSim with every document token replaced by its centroid, read from the
 * query-centroid table (no vector is touched). A cheap approximation used to keep only the most promising candidates
 * for exact scoring. out[i] is the approximate score of docs[i].
 */
export function centroidInteractionScores(
  sims: Float32Array,
  queryTokens: number,
  count: number,
  codes: Uint16Array,
  starts: Int32Array,
  docs: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(docs.length);
  const best = new Float32Array(queryTokens);
  for (let di = 0; di < docs.length; di++) {
    const d = docs[di];
    best.fill(-Infinity);
    for (let t = starts[d]; t < starts[d + 1]; t++) {
      const c = codes[t];
      for (let i = 0; i < queryTokens; i++) {
        const s = sims[i * count + c];
        if (s > best[i]) best[i] = s;
      }
    }
    let total = 0;
    for (let i = 0; i < queryTokens; i++) total += best[i] === -Infinity ? 0 : best[i];
    out[di] = total;
  }
  return out;
}

/** Indices of the `keep` largest values (all when there are fewer), in no particular order. */
export function largest(values: Float32Array, keep: number): number[] {
  if (values.length <= keep) return Array.from(values.keys());
  return Array.from(values.keys())
    .sort((a, b) => values[b] - values[a])
    .slice(0, keep);
}
