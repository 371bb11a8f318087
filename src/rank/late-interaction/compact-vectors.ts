/**
 * How token vectors are stored on disk: float32 (exact), float16 (half the bytes, about 3 decimal digits) or int8
 * with one float32 scale per token (a quarter of the bytes plus 4 per token). Vectors are decoded to float32 when an
 * index is opened, so the encoding costs accuracy, never scoring speed.
 */
import { float16Table, numberToFloat16 } from '../../models/safetensors.js';
import { InputError } from '../../errors.js';

export type TokenEncoding = 'float32' | 'float16' | 'int8';
export const TOKEN_ENCODINGS: readonly TokenEncoding[] = ['float32', 'float16', 'int8'];

export function checkEncoding(encoding: unknown): TokenEncoding {
  if (!TOKEN_ENCODINGS.includes(encoding as TokenEncoding)) {
    throw new InputError(`encoding: expected "float32", "float16" or "int8", got ${JSON.stringify(encoding)}`);
  }
  return encoding as TokenEncoding;
}

/** Bytes that `tokens` vectors of `dim` values take in an encoding. */
export function encodedSize(encoding: TokenEncoding, tokens: number, dim: number): number {
  if (encoding === 'float32') return tokens * dim * 4;
  if (encoding === 'float16') return tokens * dim * 2;
  return tokens * 4 + tokens * dim;
}

/** IEEE 754 binary16 bits of a number, rounded to nearest, ties to even (subnormals, overflow to infinity, NaN). */
export const toFloat16Bits = numberToFloat16;

/** Encodes `tokens` row vectors of `dim` values. */
export function encodeTokens(vectors: Float32Array, tokens: number, dim: number, encoding: TokenEncoding): Uint8Array {
  if (vectors.length !== tokens * dim) throw new InputError(`encodeTokens: ${vectors.length} values, ${tokens} x ${dim} expected`);
  const out = new Uint8Array(encodedSize(encoding, tokens, dim));
  if (encoding === 'float32') {
    out.set(new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
  } else if (encoding === 'float16') {
    const half = new Uint16Array(out.buffer);
    for (let i = 0; i < vectors.length; i++) half[i] = toFloat16Bits(vectors[i]);
  } else {
    const scales = new Float32Array(out.buffer, 0, tokens);
    const values = new Int8Array(out.buffer, tokens * 4, tokens * dim);
    for (let t = 0; t < tokens; t++) {
      let maxAbs = 0;
      for (let k = 0; k < dim; k++) maxAbs = Math.max(maxAbs, Math.abs(vectors[t * dim + k]));
      // Symmetric per token: the largest component maps to +-127, so no value clips.
      const scale = maxAbs / 127;
      scales[t] = scale;
      if (scale === 0) continue;
      for (let k = 0; k < dim; k++) values[t * dim + k] = Math.round(vectors[t * dim + k] / scale);
    }
  }
  return out;
}

/** Decodes what {@link encodeTokens} wrote; `bytes` must start 4-byte aligned in its buffer. */
export function decodeTokens(bytes: Uint8Array, tokens: number, dim: number, encoding: TokenEncoding): Float32Array {
  const expected = encodedSize(encoding, tokens, dim);
  if (bytes.byteLength !== expected) throw new InputError(`decodeTokens: ${bytes.byteLength} bytes, ${expected} expected for ${tokens} x ${dim} ${encoding}`);
  if (encoding === 'float32') return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out = new Float32Array(tokens * dim);
  if (encoding === 'float16') {
    const table = float16Table();
    const half = new Uint16Array(bytes.buffer, bytes.byteOffset, tokens * dim);
    for (let i = 0; i < half.length; i++) out[i] = table[half[i]];
    return out;
  }
  const scales = new Float32Array(bytes.buffer, bytes.byteOffset, tokens);
  const values = new Int8Array(bytes.buffer, bytes.byteOffset + tokens * 4, tokens * dim);
  for (let t = 0; t < tokens; t++) {
    const s = scales[t];
    for (let k = 0; k < dim; k++) out[t * dim + k] = values[t * dim + k] * s;
  }
  return out;
}
