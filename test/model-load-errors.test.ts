/**
 * A model file that cannot be used is named in the error, with what was expected (issue 16, item 7): an empty or
 * corrupt ONNX file (onnxruntime's own message is a C++ source location), a corrupt tokenizer.json, a corrupt
 * SQLite cache file. Real files, real onnxruntime sessions, the CLI as a real process.
 */
import assert from 'node:assert/strict';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSession } from '../src/models/session.js';
import { rankwise } from './helpers/cli.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

async function brokenCopy(change: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(await scratchDir(), 'model');
  await cp(await fixtureModel({ kind: 'cross-encoder', seed: 2 }), dir, { recursive: true });
  await change(dir);
  return dir;
}

describe('unusable model files are named, with what was expected', { timeout: 120_000 }, () => {
  it('createSession: an empty, a garbage and a graph-less ONNX file', async () => {
    const dir = await scratchDir();
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['empty.onnx', new Uint8Array(0), /empty\.onnx: empty file \(0 bytes\); expected an ONNX model/],
      ['garbage.onnx', Uint8Array.from({ length: 3000 }, (_, i) => (i * 2654435761) >>> 24), /garbage\.onnx: not a model onnxruntime can load \(expected an ONNX ModelProto with a graph\): Protobuf parsing failed/],
      // Field 2 (producer_name) only: valid protobuf, no graph.
      ['no-graph.onnx', Uint8Array.from([0x12, 0x03, 0x61, 0x62, 0x63]), /no-graph\.onnx: not a model onnxruntime can load \(expected an ONNX ModelProto with a graph\): ModelProto does not have a graph/],
    ];
    for (const [name, bytes, expected] of cases) {
      await writeFile(join(dir, name), bytes);
      await assert.rejects(createSession(join(dir, name), { threads: 1 }), (error: Error) => {
        assert.match(error.message, expected);
        assert.ok(error.message.startsWith(join(dir, name)), error.message);
        assert.doesNotMatch(error.message, /onnxruntime_src|\.cc:\d+/);
        return true;
      });
    }
    await assert.rejects(createSession(join(dir, 'absent.onnx')), /absent\.onnx: no such file; expected an ONNX model/);
  });

  it('rankwise rerank on a model folder with an empty model.onnx, or a corrupt tokenizer.json', async () => {
    const emptyOnnx = await brokenCopy((dir) => writeFile(join(dir, 'onnx', 'model.onnx'), ''));
    let out = await rankwise('rerank', '--model', emptyOnnx, '--query', 'q', '--doc', 'a', '--json');
    assert.equal(out.code, 3, 'ERROR_KINDS.model_invalid');
    assert.match(out.stderr, new RegExp(`${join(emptyOnnx, 'onnx', 'model.onnx').replaceAll('.', '\\.')}: empty file \\(0 bytes\\); expected an ONNX model`));
    const badTokenizer = await brokenCopy((dir) => writeFile(join(dir, 'tokenizer.json'), '{"broken'));
    out = await rankwise('rerank', '--model', badTokenizer, '--query', 'q', '--doc', 'a', '--json');
    assert.equal(out.code, 3, 'ERROR_KINDS.model_invalid');
    assert.match(out.stderr, new RegExp(`${join(badTokenizer, 'tokenizer.json').replaceAll('.', '\\.')} is not valid JSON`));
  });

  it('rankwise cache stats on a corrupt SQLite file names it', async () => {
    const db = join(await scratchDir(), 'cache.db');
    await writeFile(db, Buffer.alloc(5000, 7));
    const out = await rankwise('cache', 'stats', '--db', db);
    assert.equal(out.code, 6, 'ERROR_KINDS.store_unavailable');
    assert.match(out.stderr, new RegExp(`--db ${db.replaceAll('.', '\\.')}: not a usable SQLite cache file`));
  });
});
