import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resolveModel } from '../src/models/model-folder.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

const PAIRS = [
  ['what is a reranker', 'A reranker reorders retrieved documents.'],
  ['what is a reranker', 'Tomatoes grow best in warm weather.'],
] as const;

let fixture: string;
let server: Server;
let endpoint: string;
const requests: string[] = [];

before(async () => {
  fixture = await fixtureModel({ kind: 'cross-encoder', seed: 11 });
  // A stand-in for the hub's file API on loopback: GET /{owner}/{name}/resolve/{revision}/{path}.
  server = createServer(async (req, res) => {
    requests.push(req.url ?? '');
    const match = /^\/acme\/(tiny-reranker|weights-only)\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    const file = match?.[2];
    if (!match || !file || (match[1] === 'weights-only' && file.startsWith('onnx/'))) {
      res.writeHead(404).end('not found');
      return;
    }
    try {
      const body = await readFile(join(fixture, file));
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function scores(model: string, options: Parameters<typeof CrossEncoder.load>[1] = {}): Promise<number[]> {
  const ce = await CrossEncoder.load(model, { threads: 1, ...options });
  const out = Array.from(await ce.predict(PAIRS, { activation: 'none' }));
  await ce.dispose();
  return out;
}

test('a hub model is downloaded once into the cache folder and then loaded from it', { timeout: 120_000 }, async () => {
  const cacheDir = await scratchDir();
  requests.length = 0;
  const folder = await resolveModel('acme/tiny-reranker', { endpoint, cacheDir });
  assert.equal(folder.dir, join(cacheDir, 'acme', 'tiny-reranker'));
  assert.ok(requests.some((r) => r.endsWith('/onnx/model.onnx')));
  assert.ok(!requests.some((r) => r.endsWith('/model.safetensors')), 'weights are not fetched when the ONNX file exists');
  const fromHub = await scores('acme/tiny-reranker', { endpoint, cacheDir });
  assert.deepEqual(fromHub, await scores(fixture));

  requests.length = 0;
  await resolveModel('acme/tiny-reranker', { endpoint, cacheDir });
  assert.deepEqual(requests, [], 'the second load makes no request');
});

test('offline, the error names the model, the cache folder and the files expected', { timeout: 120_000 }, async () => {
  const cacheDir = await scratchDir();
  await assert.rejects(resolveModel('acme/tiny-reranker', { endpoint: 'http://127.0.0.1:9', cacheDir }), (error: Error) => {
    assert.match(error.message, /model "acme\/tiny-reranker"/);
    assert.ok(error.message.includes(join(cacheDir, 'acme', 'tiny-reranker')), error.message);
    assert.match(error.message, /config\.json, tokenizer\.json, onnx\/model\.onnx or model\.safetensors/);
    assert.match(error.message, /cannot reach/);
    return true;
  });
});

test('a model with only safetensors weights gets its ONNX file written by our graph writer', { timeout: 120_000 }, async () => {
  const cacheDir = await scratchDir();
  const folder = await resolveModel('acme/weights-only', { endpoint, cacheDir, dtype: 'int8' });
  assert.match(folder.onnxPath, /onnx\/model_quantized\.onnx$/);
  const local = await scratchDir();
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']) await copyFile(join(fixture, f), join(local, f));
  const rebuilt = await scores(local);
  const original = await scores(fixture);
  rebuilt.forEach((s, i) => assert.ok(Math.abs(s - original[i]) < 1e-5));
});

test('dtype picks the ONNX file', { timeout: 120_000 }, async () => {
  assert.match((await resolveModel(fixture)).onnxPath, /onnx\/model\.onnx$/);
  assert.match((await resolveModel(fixture, { dtype: 'int8' })).onnxPath, /onnx\/model_quantized\.onnx$/);
  await assert.rejects(resolveModel(fixture, { dtype: 'fp16' as 'fp32' }), /dtype must be "fp32" or "int8"/);
});

test('broken folders give errors that name the file and the field', { timeout: 120_000 }, async () => {
  await assert.rejects(resolveModel('./no/such/folder/anywhere'), /no such folder, and not a hub id/);
  const dir = await scratchDir();
  await assert.rejects(resolveModel(dir), /config\.json is missing/);
  await writeFile(join(dir, 'config.json'), '{ not json');
  await assert.rejects(resolveModel(dir), /config\.json is not valid JSON/);
  const config = JSON.parse(await readFile(join(fixture, 'config.json'), 'utf8'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, hidden_size: 'big' }));
  await assert.rejects(resolveModel(dir), /field "hidden_size" must be a positive integer/);
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  await assert.rejects(resolveModel(dir), /tokenizer\.json is missing/);
  await copyFile(join(fixture, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  await mkdir(join(dir, 'onnx'));
  await assert.rejects(resolveModel(dir), /neither .*model\.onnx nor .*model\.safetensors exists/);
});
