/**
 * HTTP protocol details of `rankwise serve` (issue 16, item 7): OpenAI's base64 embeddings and `dimensions` through
 * the real `openai` client, 405 with Allow for a known path under the wrong method, and the request timeout for slow
 * clients answered on time and in the server's error shape. A real server on loopback with fixture models.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { BiEncoder } from '../src/models/bi-encoder.js';
import { l2normalize } from '../src/models/vectors.js';
import { createServer, type RunningServer } from '../src/serve/server.js';
import { fixtureModel } from './helpers/fixtures.js';

let server: RunningServer;
let slow: RunningServer;
let bi: BiEncoder;
const TIMEOUT_MS = 1000;

before(async () => {
  const crossDir = await fixtureModel({ kind: 'cross-encoder', seed: 3 });
  const biDir = await fixtureModel({ kind: 'bi-encoder', seed: 4 });
  server = await createServer({ model: crossDir, embedModel: biDir, port: 0, threads: 1 });
  slow = await createServer({ model: crossDir, port: 0, threads: 1, requestTimeoutMs: TIMEOUT_MS });
  bi = await BiEncoder.load(biDir, { threads: 1 });
});

after(async () => {
  await server?.close();
  await slow?.close();
  await bi?.dispose();
});

const near = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((v, i) => Math.abs(v - b[i]) < 1e-5);

function decodeBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

describe('/v1/embeddings through the openai client', { timeout: 120_000 }, () => {
  const texts = ['first text', 'a second, longer text about embeddings'];
  const client = () => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });

  it('encoding_format "base64" returns little-endian float32 in base64, equal to the float form', async () => {
    const expected = await bi.encode(texts);
    const floats = await client().embeddings.create({ model: 'mini', input: texts, encoding_format: 'float' });
    const encoded = await client().embeddings.create({ model: 'mini', input: texts, encoding_format: 'base64' });
    encoded.data.forEach((d, i) => {
      assert.equal(typeof d.embedding, 'string');
      const decoded = decodeBase64(d.embedding as unknown as string);
      assert.ok(near(decoded, expected[i]), `vector ${i}`);
      assert.deepEqual(Array.from(decoded), floats.data[i].embedding.map((x) => Math.fround(x)));
    });
  });

  it('dimensions cuts each vector to its first dimensions and normalises it again', async () => {
    const full = await bi.encode(texts);
    const short = await client().embeddings.create({ model: 'mini', input: texts, dimensions: 8 });
    short.data.forEach((d, i) => {
      assert.equal(d.embedding.length, 8);
      assert.ok(near(d.embedding, l2normalize(full[i].subarray(0, 8))), `vector ${i}`);
      assert.ok(Math.abs(Math.hypot(...d.embedding) - 1) < 1e-5);
    });
    const both = await client().embeddings.create({ model: 'mini', input: texts[0], dimensions: 8, encoding_format: 'base64' });
    assert.ok(near(decodeBase64(both.data[0].embedding as unknown as string), short.data[0].embedding));
  });

  it('dimensions larger than the model dimension is a 400 naming the field and the model dimension', async () => {
    const error = await client().embeddings.create({ model: 'mini', input: 'x', dimensions: bi.dimension + 1 }).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIError, String(error));
    assert.equal(error.status, 400);
    assert.deepEqual(error.error, { message: `dimensions: expected at most ${bi.dimension} (the model's dimension), got ${bi.dimension + 1}`, field: 'dimensions' });
    const bad = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'x', encoding_format: 'hex' }) });
    assert.equal(bad.status, 400);
  });
});

describe('a known path under another method', { timeout: 60_000 }, () => {
  for (const [method, path, allow] of [
    ['GET', '/v2/rerank', 'POST'],
    ['PUT', '/rerank', 'POST'],
    ['GET', '/v1/embeddings', 'POST'],
    ['DELETE', '/embed', 'POST'],
    ['POST', '/health', 'GET, HEAD'],
    ['POST', '/metrics', 'GET, HEAD'],
  ] as const) {
    it(`${method} ${path} is 405 with Allow: ${allow}, in our error shape`, async () => {
      const response = await fetch(`${server.url}${path}?x=1`, { method });
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), allow);
      assert.deepEqual(await response.json(), { error: { message: `method ${method} is not allowed on ${path}; use ${allow.replace(', ', ' or ')}` } });
    });
  }

  it('an unknown path is still 404', async () => {
    const response = await fetch(`${server.url}/v3/rerank`);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { error: { message: 'no route GET /v3/rerank' } });
  });
});

describe('slow clients', { timeout: 60_000 }, () => {
  /** Sends `head` and part of a body, then nothing; resolves with the raw reply and the time it took. */
  function stall(head: string): Promise<{ reply: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const socket = connect(slow.port, '127.0.0.1', () => socket.write(head));
      let reply = '';
      socket.on('data', (c: Buffer) => (reply += c.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve({ reply, ms: Date.now() - started }));
      setTimeout(() => socket.destroy(new Error('no answer within 10 s')), 10_000);
    });
  }

  it('a body that never completes gets 408 in our shape at about --request-timeout-ms', async () => {
    const { reply, ms } = await stall('POST /v2/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query": "q", ');
    assert.match(reply, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(reply, /\r\nConnection: close\r\n/i);
    const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(body, { error: { message: `request: headers and body not received within the ${TIMEOUT_MS} ms request timeout`, field: 'request' } });
    assert.ok(ms >= TIMEOUT_MS - 50 && ms < TIMEOUT_MS * 1.5 + 200, `answered after ${ms} ms`);
  });

  it('headers that never complete get the same answer', async () => {
    const { reply, ms } = await stall('POST /v2/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: appl');
    assert.match(reply, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.ok(ms < TIMEOUT_MS * 1.5 + 200, `answered after ${ms} ms`);
  });

  it('the server keeps serving afterwards', async () => {
    const response = await fetch(`${slow.url}/health`);
    assert.equal(response.status, 200);
  });
});
