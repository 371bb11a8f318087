import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
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
