import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  numberToFloat16,
  parseSafetensors,
  readSafetensorsFile,
  serializeSafetensors,
  writeSafetensorsFile,
} from '../src/models/safetensors.js';
import type { TensorMap } from '../src/models/tensors.js';

/** Builds a file from a header object and raw data, the way another writer might. */
function rawFile(header: object, data: Uint8Array, pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function u16le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint16(2 * i, v, true));
  return out;
}

const sample = (): TensorMap =>
  new Map([
    ['b.weight', { shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-8, -7) }],
    ['a', { shape: [1], data: Float32Array.of(42) }],
    ['scalar', { shape: [], data: Float32Array.of(-0.25) }],
  ]);

test('round trip keeps names, shapes, values and metadata', { timeout: 30_000 }, () => {
  const tensors = sample();
  const { tensors: back, metadata } = parseSafetensors(serializeSafetensors(tensors, { format: 'pt', note: 'x' }));
  assert.deepEqual(metadata, { format: 'pt', note: 'x' });
  assert.deepEqual([...back.keys()].sort(), [...tensors.keys()].sort());
  for (const [name, t] of tensors) {
    assert.deepEqual(back.get(name)!.shape, t.shape, name);
    assert.deepEqual(Array.from(back.get(name)!.data), Array.from(t.data), name);
  }
});

test('header layout matches the Rust crate: u64 length, sorted names, contiguous offsets, space padding to 8', { timeout: 30_000 }, () => {
  const bytes = serializeSafetensors(sample(), { format: 'pt' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const json = text.trimEnd();
  assert.match(text.slice(json.length), /^ {0,7}$/);
  assert.equal(
    json,
    '{"__metadata__":{"format":"pt"},' +
      '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"b.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[4,28]},' +
      '"scalar":{"dtype":"F32","shape":[],"data_offsets":[28,32]}}',
  );
  assert.equal(bytes.length, 8 + n + 32);
  const data = new Float32Array(bytes.slice(8 + n).buffer);
  assert.deepEqual(Array.from(data.subarray(0, 2)), [42, 1]);
  // No metadata: the key is left out entirely, as the crate does for None.
  const plain = serializeSafetensors(new Map([['x', { shape: [1], data: Float32Array.of(1) }]]));
  const m = Number(new DataView(plain.buffer).getBigUint64(0, true));
  assert.ok(!new TextDecoder().decode(plain.subarray(8, 8 + m)).includes('__metadata__'));
});

test('F16 and BF16 decode to float32 (hand-computed bit patterns)', { timeout: 30_000 }, () => {
  const f16 = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x3555, 0x7c00, 0x8000];
  const f16Expected = [1, -2, 0.5, 65504, 2 ** -24, 0.333251953125, Infinity, -0];
  const bf16 = [0x3f80, 0xc000, 0x4049, 0xbe80, 0x7f80];
  const bf16Expected = [1, -2, 3.140625, -0.25, Infinity];
  const f16Bytes = u16le(f16);
  const bf16Bytes = u16le(bf16);
  const data = new Uint8Array(f16Bytes.length + 1 + bf16Bytes.length);
  data.set(f16Bytes, 0);
  // An odd offset for the second tensor: readers must not assume alignment.
  data.set(bf16Bytes, f16Bytes.length + 1);
  const file = rawFile(
    {
      half: { dtype: 'F16', shape: [2, 4], data_offsets: [0, 16] },
      brain: { dtype: 'BF16', shape: [5], data_offsets: [17, 27] },
    },
    data,
  );
  const { tensors } = parseSafetensors(file);
  assert.deepEqual(tensors.get('half')!.shape, [2, 4]);
  assert.deepEqual(Array.from(tensors.get('half')!.data), f16Expected);
  assert.ok(Object.is(tensors.get('half')!.data[7], -0));
  assert.deepEqual(Array.from(tensors.get('brain')!.data), bf16Expected);
});

test('float32 to float16 rounds to nearest, ties to even, with subnormals, overflow and NaN (hand-computed bits)', { timeout: 30_000 }, () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [1 / 3, 0x3555], // 0.333251953125: 1/3 = 0x3555.55..., rounds down
    [0.1, 0x2e66], // 0.0999755859375
    [65504, 0x7bff], // largest finite half
    [65519, 0x7bff], // just under halfway to 65536: stays finite
    [65520, 0x7c00], // halfway to the next binade: rounds (to even) up to infinity
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -14 - 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -24, 0x0001], // smallest subnormal
    [-(2 ** -24), 0x8001],
    [3 * 2 ** -24, 0x0003],
    [2 ** -25, 0x0000], // half the smallest subnormal: tie to even, 0
    [3 * 2 ** -25, 0x0002], // 1.5 subnormal steps: tie to even, 2
    [2 ** -25 + 2 ** -35, 0x0001], // just over the tie: up
    [2 ** -26, 0x0000], // underflow to zero
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1 + 2^-10: even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // tie between odd and even: even (up)
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just over the tie: up
    [2047.5, 0x6800], // tie between 2047 (odd) and 2048: even, and the mantissa carry bumps the exponent
  ];
  for (const [value, bits] of cases) {
    assert.equal(numberToFloat16(value), bits, `${value} -> 0x${numberToFloat16(value).toString(16)}, expected 0x${bits.toString(16)}`);
  }
  assert.equal(numberToFloat16(NaN) & 0x7c00, 0x7c00);
  assert.notEqual(numberToFloat16(NaN) & 0x3ff, 0, 'NaN stays NaN');

  // Written as F16 and read back: every value is its float16 neighbour, widened exactly to float32.
  const values = Float32Array.of(1, 1 / 3, 0.1, 65504, 65520, 2 ** -24, 3 * 2 ** -25, -(2 ** -14), 1 + 3 * 2 ** -11, -Infinity);
  const expected = [1, 0.333251953125, 0.0999755859375, 65504, Infinity, 2 ** -24, 2 ** -23, -(2 ** -14), 1 + 2 ** -9, -Infinity];
  const bytes = serializeSafetensors(new Map([['w', { shape: [2, 5], data: values }]]), { format: 'pt' }, 'F16');
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(bytes.length, 8 + n + 2 * values.length, 'two bytes per value');
  assert.match(new TextDecoder().decode(bytes.subarray(8, 8 + n)), /"w":\{"dtype":"F16","shape":\[2,5\],"data_offsets":\[0,20\]\}/);
  const { tensors, dtypes } = parseSafetensors(bytes);
  assert.equal(dtypes.get('w'), 'F16');
  assert.deepEqual(Array.from(tensors.get('w')!.data), expected);
  // Writing the widened values again gives the same bytes: float16 -> float32 -> float16 is the identity.
  assert.deepEqual(serializeSafetensors(tensors, { format: 'pt' }, 'F16'), bytes);
  assert.throws(() => serializeSafetensors(tensors, undefined, 'BF16' as never), /can write F32 or F16/);
});

test('truncated and corrupt files give errors that say what is wrong', { timeout: 30_000 }, () => {
  const bytes = serializeSafetensors(sample());
  assert.throws(() => parseSafetensors(bytes.subarray(0, 5)), /too short.*truncated/);
  assert.throws(() => parseSafetensors(bytes.subarray(0, 20)), /header claims \d+ bytes.*truncated/);
  assert.throws(() => parseSafetensors(bytes.subarray(0, bytes.length - 3)), /tensor "scalar" ends at byte 32.*holds only 29.*truncated/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(() => parseSafetensors(huge), /implausibly large/);
  assert.throws(() => parseSafetensors(rawFile({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8))), /"x".*needs 12 bytes/);
  assert.throws(() => parseSafetensors(rawFile({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8))), /"x" has unsupported dtype C64/);
  const garbage = new Uint8Array(8 + 4);
  new DataView(garbage.buffer).setBigUint64(0, 4n, true);
  garbage.set(new TextEncoder().encode('{"a"'), 8);
  assert.throws(() => parseSafetensors(garbage), /not valid UTF-8 JSON/);
});

test('file write is atomic and readSafetensorsFile names the path in errors', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-st-'));
  try {
    const path = join(dir, 'model.safetensors');
    await writeSafetensorsFile(path, sample(), { format: 'pt' });
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
    const { tensors, metadata } = await readSafetensorsFile(path);
    assert.equal(metadata.format, 'pt');
    assert.deepEqual(Array.from(tensors.get('b.weight')!.data), Array.from(sample().get('b.weight')!.data));
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 1));
    await assert.rejects(readSafetensorsFile(path), (err: Error) => err.message.startsWith(path) && /truncated/.test(err.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
