/**
 * MaxSim (ColBERT's late interaction): for each query token the best cosine over a document's tokens, summed over
 * query tokens. Documents are scored in bulk from one contiguous token block, never one small matrix per document.
 */
import { createDotEngine, type DotEngine, type DotEngineName } from './dot-engine.js';
import type { DisposableResource } from '../../util/disposable.js';
import { InputError } from '../../errors.js';

/** Query tokens as one row-major matrix. */
export interface TokenMatrix {
  vectors: Float32Array;
  count: number;
  dimension: number;
}

/** Documents stored back to back: document d owns token rows [starts[d], starts[d + 1]) of `vectors`. */
export interface TokenBlock {
  vectors: Float32Array;
  starts: Int32Array;
  dimension: number;
}

function checkDimensions(query: TokenMatrix, block: TokenBlock): void {
  if (query.dimension !== block.dimension) {
    throw new InputError(`maxSim: query tokens have dimension ${query.dimension}, the documents ${block.dimension}`);
  }
}

/**
 * Fused kernel: a 4 x 4 register tile (four query tokens against four document tokens, 16 running dot products, 8
 * loads per 16 multiply-adds), maxima kept per query token; no similarity matrix is materialised. `docs` lists the
 * documents to score (all when omitted); out[i] is the score of docs[i]. A document with no tokens scores 0.
 */
export function maxSimScores(query: TokenMatrix, block: TokenBlock, docs?: ArrayLike<number>): Float32Array {
  checkDimensions(query, block);
  const q = query.vectors;
  const nq = query.count;
  const dim = query.dimension;
  const v = block.vectors;
  const starts = block.starts;
  const count = docs ? docs.length : starts.length - 1;
  const out = new Float32Array(count);
  const best = new Float32Array(nq);
  const nq4 = nq - (nq % 4);
  for (let di = 0; di < count; di++) {
    const d = docs ? docs[di] : di;
    const from = starts[d];
    const to = starts[d + 1];
    if (to <= from) continue;
    best.fill(-Infinity);
    let t = from;
    for (; t + 4 <= to; t += 4) {
      const b0 = t * dim;
      const b1 = b0 + dim;
      const b2 = b1 + dim;
      const b3 = b2 + dim;
      for (let i = 0; i < nq4; i += 4) {
        const a0 = i * dim;
        const a1 = a0 + dim;
        const a2 = a1 + dim;
        const a3 = a2 + dim;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0; // prettier-ignore
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0; // prettier-ignore
        for (let k = 0; k < dim; k++) {
          const x0 = v[b0 + k];
          const x1 = v[b1 + k];
          const x2 = v[b2 + k];
          const x3 = v[b3 + k];
          const y0 = q[a0 + k];
          const y1 = q[a1 + k];
          const y2 = q[a2 + k];
          const y3 = q[a3 + k];
          s00 += y0 * x0; s01 += y0 * x1; s02 += y0 * x2; s03 += y0 * x3; // prettier-ignore
          s10 += y1 * x0; s11 += y1 * x1; s12 += y1 * x2; s13 += y1 * x3; // prettier-ignore
          s20 += y2 * x0; s21 += y2 * x1; s22 += y2 * x2; s23 += y2 * x3; // prettier-ignore
          s30 += y3 * x0; s31 += y3 * x1; s32 += y3 * x2; s33 += y3 * x3; // prettier-ignore
        }
        best[i] = Math.max(best[i], s00, s01, s02, s03);
        best[i + 1] = Math.max(best[i + 1], s10, s11, s12, s13);
        best[i + 2] = Math.max(best[i + 2], s20, s21, s22, s23);
        best[i + 3] = Math.max(best[i + 3], s30, s31, s32, s33);
      }
      for (let i = nq4; i < nq; i++) {
        const a = i * dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let k = 0; k < dim; k++) {
          const y = q[a + k];
          s0 += y * v[b0 + k];
          s1 += y * v[b1 + k];
          s2 += y * v[b2 + k];
          s3 += y * v[b3 + k];
        }
        best[i] = Math.max(best[i], s0, s1, s2, s3);
      }
    }
    // The last (fewer than four) document tokens, one at a time.
    for (; t < to; t++) {
      const b = t * dim;
      for (let i = 0; i < nq; i++) {
        const a = i * dim;
        let s = 0;
        for (let k = 0; k < dim; k++) s += q[a + k] * v[b + k];
        if (s > best[i]) best[i] = s;
      }
    }
    let score = 0;
    for (let i = 0; i < nq; i++) score += best[i];
    out[di] = score;
  }
  return out;
}

/** Rows of the block that one engine call covers: large enough to amortise the call, small enough for cache. */
const TOKENS_PER_CALL = 16_384;

/**
 * The same scores through a dot engine (onnxruntime's Gemm): the similarity matrix of the query against a run of
 * whole documents at a time, then a max over each document's columns. Selected documents are gathered into a
 * contiguous buffer first.
 */
export async function maxSimScoresWith(engine: DotEngine, query: TokenMatrix, block: TokenBlock, docs?: ArrayLike<number>): Promise<Float32Array> {
  checkDimensions(query, block);
  const dim = query.dimension;
  const nq = query.count;
  const source = docs ? gatherDocuments(block, docs) : block;
  const starts = source.starts;
  const nDocs = starts.length - 1;
  const out = new Float32Array(nDocs);
  let d = 0;
  while (d < nDocs) {
    const first = d;
    const tokenFrom = starts[first];
    // At least one document per call, however long.
    d++;
    while (d < nDocs && starts[d + 1] - tokenFrom <= TOKENS_PER_CALL) d++;
    const n = starts[d] - tokenFrom;
    if (n === 0) continue;
    const sims = await engine.dotsNT(query.vectors, nq, source.vectors.subarray(tokenFrom * dim, starts[d] * dim), n, dim);
    for (let doc = first; doc < d; doc++) {
      const a = starts[doc] - tokenFrom;
      const b = starts[doc + 1] - tokenFrom;
      if (b <= a) continue;
      let score = 0;
      for (let i = 0; i < nq; i++) {
        const row = i * n;
        let m = -Infinity;
        for (let t = row + a; t < row + b; t++) if (sims[t] > m) m = sims[t];
        score += m;
      }
      out[doc] = score;
    }
  }
  return out;
}

/** The listed documents' tokens copied into one contiguous block, in list order. */
export function gatherDocuments(block: TokenBlock, docs: ArrayLike<number>): TokenBlock {
  const dim = block.dimension;
  const starts = new Int32Array(docs.length + 1);
  for (let i = 0; i < docs.length; i++) starts[i + 1] = starts[i] + (block.starts[docs[i] + 1] - block.starts[docs[i]]);
  const vectors = new Float32Array(starts[docs.length] * dim);
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i];
    vectors.set(block.vectors.subarray(block.starts[d] * dim, block.starts[d + 1] * dim), starts[i] * dim);
  }
  return { vectors, starts, dimension: dim };
}

/** The article's reference definition, one document at a time: for tests and for scoring a single pair. */
export function maxSim(query: TokenMatrix, doc: TokenMatrix): number {
  const starts = Int32Array.of(0, doc.count);
  return maxSimScores(query, { vectors: doc.vectors, starts, dimension: doc.dimension })[0];
}

export type MaxSimKernel = DotEngineName | 'auto';
export const MAXSIM_KERNELS: readonly MaxSimKernel[] = ['auto', 'js', 'onnx'];

/**
 * Below this many multiply-adds (query tokens x document tokens x dimension) the fused JS kernel wins, since an
 * onnxruntime call costs a fixed overhead; above it onnxruntime's Gemm is several times faster
 * (bench/late-interaction.ts measures both).
 */
export const ONNX_MIN_WORK = 1 << 20;

/** MaxSim with the kernel chosen per call ('auto') or fixed; owns the onnxruntime session it may create. */
export class MaxSimScorer implements DisposableResource {
  private onnx: Promise<DotEngine> | undefined;

  constructor(
    readonly kernel: MaxSimKernel = 'auto',
    private readonly threads?: number,
  ) {
    if (!MAXSIM_KERNELS.includes(kernel)) throw new InputError(`kernel: expected "auto", "js" or "onnx", got ${JSON.stringify(kernel)}`);
  }

  async score(query: TokenMatrix, block: TokenBlock, docs?: ArrayLike<number>): Promise<Float32Array> {
    if (this.choose(query, block, docs) === 'js') return maxSimScores(query, block, docs);
    this.onnx ??= createDotEngine('onnx', this.threads);
    return maxSimScoresWith(await this.onnx, query, block, docs);
  }

  /** The engine a call would use. */
  choose(query: TokenMatrix, block: TokenBlock, docs?: ArrayLike<number>): DotEngineName {
    if (this.kernel !== 'auto') return this.kernel;
    let tokens = 0;
    if (docs) for (let i = 0; i < docs.length; i++) tokens += block.starts[docs[i] + 1] - block.starts[docs[i]];
    else tokens = block.starts[block.starts.length - 1] - block.starts[0];
    return query.count * tokens * query.dimension >= ONNX_MIN_WORK ? 'onnx' : 'js';
  }

  async dispose(): Promise<void> {
    if (this.onnx) await (await this.onnx).dispose();
    this.onnx = undefined;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
