/**
 * How token vectors are stored on disk: float32 (exact), float16 (half the bytes, about 3 decimal digits) or int8
 * with one float32 scale per token (a quarter of the bytes plus 4 per token). Vectors are decoded to float32 when an
 * index is opened, so the encoding costs accuracy, never scoring speed.
 */
import { float16ToNumber } from '../../models/safetensors.js';

export type TokenEncoding = 'float32' | 'float16' | 'int8';
export const TOKEN_ENCODINGS: readonly TokenEncoding[] = ['float32', 'float16', 'int8'];

export function checkEncoding(encoding: unknown): TokenEncoding {
  if (!TOKEN_ENCODINGS.includes(encoding as TokenEncoding)) {
    throw new Error(`encoding: expected "float32", "float16" or "int8", got ${JSON.stringify(encoding)}`);
  }
  return encoding as TokenEncoding;
}

/** Bytes that `tokens` vectors of `dim` values take in an encoding. */
export function encodedSize(encoding: TokenEncoding, tokens: number, dim: number): number {
  if (encoding === 'float32') return tokens * dim * 4;
  if (encoding === 'float16') return tokens * dim * 2;
  return tokens * 4 + tokens * dim;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a number, rounded to nearest, ties to even (subnormals, overflow to infinity, NaN). */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  // A carry out of the mantissa correctly bumps the exponent (and at the top, gives infinity).
  let half = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return half;
}

let halfTable: Float32Array | undefined;

/** All 65,536 half values, so decoding is one lookup per value. */
function float16Table(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) halfTable[bits] = float16ToNumber(bits);
  }
  return halfTable;
}

/** Encodes `tokens` row vectors of `dim` values. */
export function encodeTokens(vectors: Float32Array, tokens: number, dim: number, encoding: TokenEncoding): Uint8Array {
  if (vectors.length !== tokens * dim) throw new Error(`encodeTokens: ${vectors.length} values, ${tokens} x ${dim} expected`);
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
  if (bytes.byteLength !== expected) throw new Error(`decodeTokens: ${bytes.byteLength} bytes, ${expected} expected for ${tokens} x ${dim} ${encoding}`);
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
