/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a
 * JSON header mapping tensor names to {dtype, shape, data_offsets} plus an optional string-to-string
 * `__metadata__`, then the raw little-endian tensor bytes. Everything is read into float32, the one dtype the rest
 * of rankwise computes in; files are written in float32, or float16 for weights that ship in the package.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { TensorMap } from './tensors.js';
import { InputError, ModelInvalidError } from '../errors.js';

export interface SafetensorsContents {
  tensors: TensorMap;
  metadata: Record<string, string>;
  /** The dtype each tensor was stored in (the values in `tensors` are float32 whatever it was). */
  dtypes: Map<string, string>;
}

/** How `serializeSafetensors` stores the values: float32 as they are, or float16 (rounded to nearest, ties to even). */
export type SafetensorsWriteDtype = 'F32' | 'F16';

/** Bytes per element of each dtype we can turn into float32. */
const DTYPE_SIZE: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

// Guards against a corrupt length field making us try to JSON-parse gigabytes; the reference implementation
// rejects headers over 100 MB for the same reason.
const MAX_HEADER_BYTES = 100_000_000;

/** IEEE 754 binary16 to number, including subnormals, infinities and NaN. */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * The IEEE 754 binary16 bits of a number, rounded to nearest with ties to even, as numpy and torch round: subnormals
 * kept, overflow (|x| >= 65520) to infinity, NaN to a quiet NaN.
 */
export function numberToFloat16(value: number): number {
  F32[0] = value;
  const x = U32[0];
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

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

let halfTable: Float32Array | undefined;

/** All 65,536 half values, indexed by bits, so that widening a large tensor is one lookup per value. */
export function float16Table(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) halfTable[bits] = float16ToNumber(bits);
  }
  return halfTable;
}

function decode(dtype: string, bytes: Uint8Array, count: number, name: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      // Copying through a fresh buffer also fixes alignment: tensor data in a file has no 4-byte guarantee.
      out.set(new Float32Array(bytes.slice().buffer));
      break;
    case 'F16': {
      const table = float16Table();
      for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, true)];
      break;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32, so widening is a 16-bit shift.
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u32[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * i, true));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, true);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      break;
    default:
      throw new ModelInvalidError(`safetensors: tensor "${name}" has unsupported dtype ${dtype}`);
  }
  return out;
}

export function parseSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (bytes.byteLength < 8) {
    throw new ModelInvalidError(`safetensors: file is ${bytes.byteLength} bytes, too short for the 8-byte header length (truncated?)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw new ModelInvalidError(`safetensors: header length ${headerLen} is implausibly large (corrupt file or not safetensors)`);
  }
  const n = Number(headerLen);
  if (8 + n > bytes.byteLength) {
    throw new ModelInvalidError(`safetensors: header claims ${n} bytes but the file has only ${bytes.byteLength - 8} after the length (truncated?)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    throw new ModelInvalidError(`safetensors: header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new ModelInvalidError('safetensors: header is not a JSON object');
  }
  const data = bytes.subarray(8 + n);
  const tensors: TensorMap = new Map();
  const metadata: Record<string, string> = {};
  const dtypes = new Map<string, string>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null) throw new ModelInvalidError('safetensors: __metadata__ is not an object');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new ModelInvalidError(`safetensors: __metadata__ value for "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      throw new ModelInvalidError(`safetensors: header entry for "${name}" needs dtype, shape and data_offsets`);
    }
    const shape = e.shape as unknown[];
    if (!shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw new ModelInvalidError(`safetensors: tensor "${name}" has invalid shape ${JSON.stringify(shape)}`);
    }
    const offsets = e.data_offsets as unknown[];
    if (offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && (o as number) >= 0)) {
      throw new ModelInvalidError(`safetensors: tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const size = DTYPE_SIZE[e.dtype];
    if (size === undefined) throw new ModelInvalidError(`safetensors: tensor "${name}" has unsupported dtype ${e.dtype}`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end - begin !== count * size) {
      throw new ModelInvalidError(
        `safetensors: tensor "${name}" (${e.dtype} [${shape}]) needs ${count * size} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    if (end > data.byteLength) {
      throw new ModelInvalidError(
        `safetensors: tensor "${name}" ends at byte ${end} of the data section but the file holds only ${data.byteLength} (truncated?)`,
      );
    }
    tensors.set(name, { shape: shape as number[], data: decode(e.dtype, data.subarray(begin, end), count, name) });
    dtypes.set(name, e.dtype);
  }
  return { tensors, metadata, dtypes };
}

export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  const bytes = await readFile(path);
  try {
    return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new InputError(`${path}: ${(err as Error).message}`);
  }
}

/**
 * Float32 (or, with `dtype: 'F16'`, every tensor rounded to float16), tensors in name order and contiguous,
 * `__metadata__` first, and the JSON header padded with spaces to a multiple of 8 bytes so that the data section
 * starts aligned - byte-for-byte what the Rust crate (and so the Python package) writes for the same tensors.
 */
export function serializeSafetensors(tensors: TensorMap, metadata?: Record<string, string>, dtype: SafetensorsWriteDtype = 'F32'): Uint8Array {
  if (dtype !== 'F32' && dtype !== 'F16') throw new ModelInvalidError(`safetensors: can write F32 or F16, not ${JSON.stringify(dtype)}`);
  const size = dtype === 'F16' ? 2 : 4;
  const names = [...tensors.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new ModelInvalidError(`safetensors: metadata value for "${k}" must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new ModelInvalidError('safetensors: "__metadata__" is reserved and cannot name a tensor');
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) {
      throw new ModelInvalidError(`safetensors: tensor "${name}" holds ${t.data.length} values but shape [${t.shape}] needs ${count}`);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + size * count] };
    offset += size * count;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  const view = new DataView(out.buffer);
  for (const name of names) {
    const d = tensors.get(name)!.data;
    if (dtype === 'F16') {
      for (let i = 0; i < d.length; i++) view.setUint16(pos + 2 * i, numberToFloat16(d[i]), true);
      pos += 2 * d.length;
    } else {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
      pos += d.byteLength;
    }
  }
  return out;
}

/** Writes atomically (temporary file, then rename), so a reader never sees a partial file. */
export async function writeSafetensorsFile(path: string, tensors: TensorMap, metadata?: Record<string, string>, dtype: SafetensorsWriteDtype = 'F32'): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata, dtype));
}
