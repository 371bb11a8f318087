/** Small dense-vector helpers shared by encoders, retrievers and evaluation. */
import { InputError } from '../errors.js';

export type Vector = ArrayLike<number>;

function checkSameLength(a: Vector, b: Vector, op: string): void {
  if (a.length !== b.length) throw new InputError(`${op}: vectors have different lengths (${a.length} and ${b.length})`);
}

export function dot(a: Vector, b: Vector): number {
  checkSameLength(a, b, 'dot');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function l2norm(a: Vector): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/**
 * A unit-length copy of `a`. The zero vector is returned as zeros rather than NaN: an empty or degenerate input
 * should score 0 against everything instead of poisoning a whole ranking.
 */
export function l2normalize(a: Vector): Float32Array {
  const out = Float32Array.from(a);
  const n = l2norm(a);
  if (n > 0) for (let i = 0; i < out.length; i++) out[i] /= n;
  return out;
}

/** Cosine similarity; 0 when either vector is all zeros (no direction to compare). */
export function cosineSimilarity(a: Vector, b: Vector): number {
  checkSameLength(a, b, 'cosineSimilarity');
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (aa === 0 || bb === 0) return 0;
  return ab / Math.sqrt(aa * bb);
}
