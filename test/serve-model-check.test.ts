/**
 * Models checked at load (issue 16, item 4): a cross-encoder folder whose ONNX graph has no `logits` output, or whose
 * logits disagree with config.json, is refused with an error naming the file and what it has; `serve` does not start
 * on it; /health scores a pair before saying ok. Real fixture models, real servers and a real `rankwise serve` process.
 */
import assert from 'node:assert/strict';
import { copyFile, cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { checkCrossEncoderOnnx, readOnnxSignature } from '../src/models/check-model.js';
import { createServer } from '../src/serve/server.js';
import { rankwise } from './helpers/cli.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';
import { freePort, portOpen } from './helpers/processes.js';

let crossDir: string;
let noLogits: string;
let wrongLabels: string;

before(async () => {
  crossDir = await fixtureModel({ kind: 'cross-encoder', seed: 3 });
  const biDir = await fixtureModel({ kind: 'bi-encoder', seed: 4 });
  const work = await scratchDir();
  // A cross-encoder folder holding a feature-extraction graph: config says classifier, the graph has no logits.
  noLogits = join(work, 'no-logits');
  await cp(crossDir, noLogits, { recursive: true });
  await copyFile(join(biDir, 'onnx/model.onnx'), join(noLogits, 'onnx/model.onnx'));
  // config.json declares three labels; the graph gives one logit per pair.
  wrongLabels = join(work, 'wrong-labels');
  await cp(crossDir, wrongLabels, { recursive: true });
  const config = JSON.parse(await readFile(join(wrongLabels, 'config.json'), 'utf8'));
  config.id2label = { 0: 'a', 1: 'b', 2: 'c' };
  config.label2id = { a: 0, b: 1, c: 2 };
  await writeFile(join(wrongLabels, 'config.json'), JSON.stringify(config));
});

describe('ONNX graph check', { timeout: 120_000 }, () => {
  it('reads input and output names without loading the weights', async () => {
    assert.deepEqual(readOnnxSignature(join(crossDir, 'onnx/model.onnx')), { inputs: ['input_ids', 'attention_mask', 'token_type_ids'], outputs: ['logits'] });
    assert.deepEqual(checkCrossEncoderOnnx(join(crossDir, 'onnx/model.onnx')).outputs, ['logits']);
  });

  it('refuses a graph without logits, naming the file and the outputs it has', () => {
    const path = join(noLogits, 'onnx/model.onnx');
    assert.throws(() => checkCrossEncoderOnnx(path), (error: Error) => error.message.startsWith(`${path}: a cross-encoder needs a "logits" output; this graph's outputs are "last_hidden_state"`));
  });

  it('an empty or non-ONNX file is an error naming it', async () => {
    const dir = await scratchDir();
    const empty = join(dir, 'empty.onnx');
    await writeFile(empty, '');
    assert.throws(() => readOnnxSignature(empty), { message: `${empty}: not a usable ONNX model (the file is empty)` });
    const json = join(dir, 'config.onnx');
    await writeFile(json, '{"this": "is json"}');
    assert.throws(() => readOnnxSignature(json), (error: Error) => error.message.startsWith(`${json}: not a usable ONNX model (`));
    assert.throws(() => readOnnxSignature(join(dir, 'missing.onnx')), { message: `${join(dir, 'missing.onnx')}: cannot read the ONNX file (ENOENT)` });
  });
});

describe('serve refuses a model it cannot use', { timeout: 300_000 }, () => {
  it('createServer: no logits output', async () => {
    await assert.rejects(createServer({ model: noLogits, port: 0, threads: 1 }), (error: Error) =>
      error.message.startsWith(`${join(noLogits, 'onnx/model.onnx')}: a cross-encoder needs a "logits" output; this graph's outputs are "last_hidden_state"`),
    );
  });

  it('createServer: logits that do not match config.json', async () => {
    const error = await createServer({ model: wrongLabels, port: 0, threads: 1 }).catch((e: Error) => e);
    assert.ok(error instanceof Error);
    assert.ok(error.message.startsWith(`${join(wrongLabels, 'onnx/model.onnx')}: scoring one test pair gave `), error.message);
    assert.match(error.message, /gave (NaN|-Infinity), expected a finite number \(config\.json declares 3 label\(s\): does the graph's "logits" output have as many\?\)$/);
  });

  it('rankwise serve exits 3 with one line naming the file, and never listens', async () => {
    const port = await freePort();
    const out = await rankwise('serve', '--model', noLogits, '--port', String(port), '--threads', '1');
    assert.equal(out.code, 3, out.stdout);
    assert.match(out.stderr, /no-logits\/onnx\/model\.onnx: a cross-encoder needs a "logits" output; this graph's outputs are "last_hidden_state"/);
    assert.doesNotMatch(out.stderr, /Cannot read properties/);
    assert.equal(out.stdout, '');
    assert.equal(await portOpen(port), false);
  });

  it('/health scores a pair and says ok on a usable model', async () => {
    const server = await createServer({ model: crossDir, port: 0, threads: 1 });
    try {
      const replies = await Promise.all(Array.from({ length: 5 }, () => fetch(`${server.url}/health`)));
      for (const reply of replies) {
        assert.equal(reply.status, 200);
        assert.deepEqual(await reply.json(), { status: 'ok', model: crossDir, queue: 0 });
      }
    } finally {
      await server.close();
    }
  });
});
