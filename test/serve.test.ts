import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BiEncoder } from '../src/models/bi-encoder.js';
import type { Encoded, PairTokenizer } from '../src/models/tokenizer/index.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { QueueFullError, ScoreBatcher } from '../src/serve/batcher.js';
import { createServer, type RunningServer, type ServeOptions } from '../src/serve/server.js';
import { fixtureModel } from './helpers/fixtures.js';

const QUERY = 'how do cross-encoders score a query and a document together';
const DOCS = [
  'A cross-encoder reads the query and the document in one pass.',
  'Bi-encoders embed each text on its own.',
  'The weather in the mountains changes quickly in spring, and hikers should carry layers, water and a map.',
  'Reranking',
  'café naïve 東京 🙂',
];
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

let crossDir: string;
let biDir: string;
let reference: CrossEncoder;
let main: RunningServer;
const servers: RunningServer[] = [];

async function start(options: Partial<ServeOptions> = {}): Promise<RunningServer> {
  const server = await createServer({ model: crossDir, port: 0, threads: 1, ...options });
  servers.push(server);
  return server;
}

before(async () => {
  crossDir = await fixtureModel({ kind: 'cross-encoder', seed: 3 });
  biDir = await fixtureModel({ kind: 'bi-encoder', seed: 4 });
  reference = await CrossEncoder.load(crossDir, { threads: 1 });
  main = await start({ embedModel: biDir, batchWaitMs: 20 });
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await reference.dispose();
});

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

async function call(server: RunningServer, path: string, body?: unknown, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(`${server.url}${path}`, {
    method: body === undefined && init.body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    body: body === undefined ? init.body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed };
}

async function expectError(reply: Reply, status: number, field?: string): Promise<void> {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
  assert.equal(typeof reply.body.error?.message, 'string', JSON.stringify(reply.body));
  if (field !== undefined) {
    assert.equal(reply.body.error.field, field, JSON.stringify(reply.body));
    assert.ok(reply.body.error.message.startsWith(field), reply.body.error.message);
  }
}

async function logitsAlone(query: string, docs: string[]): Promise<Float32Array> {
  return reference.predict(
    docs.map((d) => [query, d] as const),
    { activation: 'none' },
  );
}

/** `rankwise_batch_requests` histogram: model calls in all, and those that served exactly one request. */
async function batchCounts(server: RunningServer): Promise<{ calls: number; single: number }> {
  const text = (await call(server, '/metrics')).body as string;
  const calls = Number(/^rankwise_batch_requests_count (\d+)$/m.exec(text)?.[1] ?? 0);
  const single = Number(/^rankwise_batch_requests_bucket\{le="1"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  return { calls, single };
}

test('GET /health, /openapi.json and /metrics', { timeout: 120_000 }, async () => {
  const health = await call(main, '/health');
  assert.equal(health.status, 200);
  assert.deepEqual(health.body, { status: 'ok', model: crossDir, embed_model: biDir, queue: 0 });

  const openApi = await call(main, '/openapi.json');
  assert.equal(openApi.body.openapi, '3.0.3');
  for (const path of ['/v2/rerank', '/rerank', '/embed', '/v1/embeddings', '/health', '/metrics']) assert.ok(openApi.body.paths[path], path);

  await call(main, '/v2/rerank', { query: QUERY, documents: DOCS });
  const metrics = await call(main, '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = metrics.body as string;
  assert.match(text, /^# TYPE rankwise_requests_total counter$/m);
  assert.match(text, /^rankwise_requests_total\{route="\/v2\/rerank",status="200"\} \d+$/m);
  assert.match(text, /^# TYPE rankwise_queue_depth gauge$/m);
  assert.match(text, /^rankwise_batch_requests_bucket\{le="\+Inf"\} \d+$/m);
  assert.match(text, /^rankwise_request_duration_seconds_bucket\{le="0\.005",route="\/v2\/rerank"\} \d+$/m);
  assert.match(text, /^# TYPE rankwise_request_errors_total counter$/m);
});

test('POST /v2/rerank (Cohere): sigmoid scores best first, top_n, documents as strings or {text}, max_tokens_per_doc', { timeout: 120_000 }, async () => {
  const logits = await logitsAlone(QUERY, DOCS);
  const reply = await call(main, '/v2/rerank', {
    model: 'anything',
    query: QUERY,
    documents: DOCS.map((text, i) => (i % 2 ? { text } : text)),
    return_documents: true,
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.equal(typeof reply.body.id, 'string');
  assert.deepEqual(reply.body.meta, { api_version: { version: '2' }, billed_units: { search_units: 1 } });
  const results = reply.body.results as Array<{ index: number; relevance_score: number; document: { text: string } }>;
  assert.deepEqual(results.map((r) => r.index).sort(), [0, 1, 2, 3, 4]);
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    assert.ok(r.relevance_score >= 0 && r.relevance_score <= 1);
    assert.ok(Math.abs(r.relevance_score - sigmoid(logits[r.index])) < 1e-5);
    assert.equal(r.document.text, DOCS[r.index]);
    if (i > 0) assert.ok(results[i - 1].relevance_score >= r.relevance_score, 'sorted by score, best first');
  }

  const top = await call(main, '/v2/rerank', { query: QUERY, documents: DOCS, top_n: 2 });
  assert.deepEqual(top.body.results, results.slice(0, 2).map(({ index, relevance_score }) => ({ index, relevance_score })));

  const cut = await call(main, '/v2/rerank', { query: QUERY, documents: [DOCS[2]], max_tokens_per_doc: 3 });
  const bert = reference.tokenizer as PairTokenizer;
  const firstWords = bert.decode(bert.tokenIds(DOCS[2]).slice(0, 3));
  const [expected] = await logitsAlone(QUERY, [firstWords]);
  assert.ok(Math.abs(cut.body.results[0].relevance_score - sigmoid(expected)) < 1e-5, 'document cut to 3 tokens');
});

test('POST /rerank (TEI): sigmoid or raw scores, return_text, truncate', { timeout: 120_000 }, async () => {
  const logits = await logitsAlone(QUERY, DOCS);
  const scored = await call(main, '/rerank', { query: QUERY, texts: DOCS, return_text: true });
  assert.equal(scored.status, 200, JSON.stringify(scored.body));
  const raw = await call(main, '/rerank', { query: QUERY, texts: DOCS, raw_scores: true });
  assert.equal(scored.body.length, DOCS.length);
  for (const r of scored.body as Array<{ index: number; score: number; text: string }>) {
    assert.ok(Math.abs(r.score - sigmoid(logits[r.index])) < 1e-5);
    assert.equal(r.text, DOCS[r.index]);
  }
  for (const r of raw.body as Array<{ index: number; score: number; text?: string }>) {
    assert.ok(Math.abs(r.score - logits[r.index]) < 1e-5);
    assert.equal(r.text, undefined);
  }
  const scores = (scored.body as Array<{ score: number }>).map((r) => r.score);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a));

  const long = 'word '.repeat(600);
  await expectError(await call(main, '/rerank', { query: QUERY, texts: ['short', long] }), 413, 'texts[1]');
  const truncated = await call(main, '/rerank', { query: QUERY, texts: ['short', long], truncate: true });
  assert.equal(truncated.status, 200);
  const [cutLogit] = await logitsAlone(QUERY, [long]);
  assert.ok(Math.abs(truncated.body.find((r: { index: number }) => r.index === 1).score - sigmoid(cutLogit)) < 1e-5);
});

test('POST /embed (TEI) and /v1/embeddings (OpenAI) return the bi-encoder vectors', { timeout: 120_000 }, async () => {
  const bi = await BiEncoder.load(biDir, { threads: 1 });
  const texts = ['first text', 'a second, longer text about embeddings'];
  const expected = await bi.encode(texts);
  const unnormalized = await bi.encode(texts, { normalize: false });
  const tokens = texts.reduce((n, t) => n + bi.tokenizer.encodeSingle(t, { maxLength: bi.maxLength }).inputIds.length, 0);
  await bi.dispose();
  const close = (a: number[], b: Float32Array) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-5);

  const tei = await call(main, '/embed', { inputs: texts });
  assert.equal(tei.status, 200);
  assert.ok(close(tei.body[0], expected[0]) && close(tei.body[1], expected[1]));
  const one = await call(main, '/embed', { inputs: texts[1], normalize: false });
  assert.equal(one.body.length, 1);
  assert.ok(close(one.body[0], unnormalized[1]));

  const openAi = await call(main, '/v1/embeddings', { input: texts, model: 'mini' });
  assert.equal(openAi.status, 200);
  assert.equal(openAi.body.object, 'list');
  assert.equal(openAi.body.model, 'mini');
  assert.deepEqual(openAi.body.usage, { prompt_tokens: tokens, total_tokens: tokens });
  openAi.body.data.forEach((d: { object: string; index: number; embedding: number[] }, i: number) => {
    assert.equal(d.object, 'embedding');
    assert.equal(d.index, i);
    assert.ok(close(d.embedding, expected[i]));
  });
  await expectError(await call(main, '/embed', { inputs: [] }), 400, 'inputs');
  await expectError(await call(main, '/v1/embeddings', { input: [1] }), 400, 'input');
});

test('bad requests get clear errors naming the field, and the server keeps serving', { timeout: 120_000 }, async () => {
  const raw = (body: string) => call(main, '/v2/rerank', undefined, { body });
  await expectError(await raw('{"query": "q", "documents": ['), 400, 'body');
  await expectError(await raw(''), 400, 'body');
  await expectError(await raw('null'), 400, 'body');
  await expectError(await call(main, '/v2/rerank', { documents: DOCS }), 400, 'query');
  await expectError(await call(main, '/v2/rerank', { query: 7, documents: DOCS }), 400, 'query');
  await expectError(await call(main, '/v2/rerank', { query: QUERY, documents: 'one' }), 400, 'documents');
  await expectError(await call(main, '/v2/rerank', { query: QUERY, documents: ['a', 'b', 'c', 5] }), 400, 'documents[3]');
  await expectError(await call(main, '/v2/rerank', { query: QUERY, documents: ['a', { txt: 'b' }] }), 400, 'documents[1]');
  await expectError(await call(main, '/v2/rerank', { query: QUERY, documents: ['a'], top_n: '2' }), 400, 'top_n');
  await expectError(await call(main, '/v2/rerank', { query: QUERY, documents: ['a'], top_n: 0 }), 400, 'top_n');
  await expectError(await call(main, '/v2/rerank', { query: QUERY, documents: [] }), 400, 'documents');
  await expectError(await call(main, '/v2/rerank', { query: ' \n\t', documents: DOCS }), 400, 'query');
  await expectError(await call(main, '/rerank', { query: QUERY, texts: [null] }), 400, 'texts[0]');
  await expectError(await call(main, '/nowhere', {}), 404);
  await expectError(await call(main, '/v2/rerank', undefined, { body: 'hi', headers: { 'content-type': 'text/plain' } }), 415, 'body');
  await expectError(await call(main, '/v2/rerank', undefined, { body: '<q/>', headers: { 'content-type': 'application/xml' } }), 415, 'body');

  // Unicode oddities are text like any other: lone surrogates, NUL, zero-width and direction marks, combining marks.
  const odd = ['\ud800 lone', 'nul\u0000byte', 'zero\u200bwidth\u200f\u202e', 'e\u0301\u0301\u0301', '🙂'.repeat(50), '\ufeff', ''];
  const oddReply = await call(main, '/v2/rerank', { query: 'q\udfff', documents: odd, return_documents: true });
  assert.equal(oddReply.status, 200, JSON.stringify(oddReply.body));
  assert.equal(oddReply.body.results.length, odd.length);

  const ok = await call(main, '/v2/rerank', { query: QUERY, documents: DOCS });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.results.length, DOCS.length);
});

test('per-request limits: document count, characters and body size give 413 naming the field', { timeout: 120_000 }, async () => {
  const server = await start({ maxDocuments: 3, maxCharsPerDocument: 50, maxBodyBytes: 4096 });
  const query = 'cross-encoders';
  await expectError(await call(server, '/v2/rerank', { query, documents: ['a', 'b', 'c', 'd'] }), 413, 'documents');
  await expectError(await call(server, '/v2/rerank', { query, documents: ['a', 'x'.repeat(51)] }), 413, 'documents[1]');
  await expectError(await call(server, '/rerank', { query: 'q'.repeat(51), texts: ['a'] }), 413, 'query');
  await expectError(await call(server, '/v2/rerank', { query, documents: ['y'.repeat(5000)] }), 413, 'body');
  assert.equal((await call(server, '/v2/rerank', { query, documents: ['a', 'b', 'x'.repeat(50)] })).status, 200);
});

test('bearer-token auth: 401 without or with a wrong key, /health stays open', { timeout: 120_000 }, async () => {
  const server = await start({ apiKey: 's3cret-key' });
  const body = { query: QUERY, documents: DOCS };
  await expectError(await call(server, '/v2/rerank', body), 401, 'authorization');
  await expectError(await call(server, '/v2/rerank', body, { headers: { authorization: 'Bearer wrong' } }), 401);
  await expectError(await call(server, '/v2/rerank', body, { headers: { authorization: 'Bearer s3cret-key-and-more' } }), 401);
  await expectError(await call(server, '/metrics', undefined, { headers: { authorization: 's3cret-key' } }), 401);
  assert.equal((await call(server, '/health')).status, 200);
  assert.equal((await call(server, '/v2/rerank', body, { headers: { authorization: 'Bearer s3cret-key' } })).status, 200);
});

test('a full queue answers 429 with Retry-After; a request waiting too long gets 503, one too slow to score 504', { timeout: 120_000 }, async () => {
  const queued = await start({ maxQueue: 1, batchWaitMs: 300 });
  const replies = await Promise.all(Array.from({ length: 4 }, () => call(queued, '/rerank', { query: QUERY, texts: DOCS })));
  const statuses = replies.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 429, 429, 429]);
  const busy = replies.find((r) => r.status === 429)!;
  assert.equal(busy.headers.get('retry-after'), '1');
  assert.equal((await call(queued, '/rerank', { query: QUERY, texts: DOCS })).status, 200, 'serves again once the queue drains');

  const waiting = await start({ batchWaitMs: 400, requestTimeoutMs: 50 });
  await expectError(await call(waiting, '/rerank', { query: QUERY, texts: DOCS }), 503);
  assert.equal((await call(waiting, '/health')).body.queue, 0, 'the timed-out request left the queue');

  // Without batching the model call starts at once, so a 1 ms budget runs out mid-call.
  const slow = await start({ batchWaitMs: 0, requestTimeoutMs: 1 });
  const many = Array.from({ length: 200 }, (_, i) => `${DOCS[i % DOCS.length]} ${'more words '.repeat(i % 40)}`);
  await expectError(await call(slow, '/rerank', { query: QUERY, texts: many, truncate: true }), 504);
});

test('close() stops accepting new connections and finishes the requests in flight', { timeout: 120_000 }, async () => {
  const server = await createServer({ model: crossDir, port: 0, threads: 1, batchWaitMs: 300 });
  const inFlight = call(server, '/v2/rerank', { query: QUERY, documents: DOCS });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const closed = server.close();
  const reply = await inFlight;
  assert.equal(reply.status, 200);
  assert.equal(reply.body.results.length, DOCS.length);
  await closed;
  await assert.rejects(fetch(`${server.url}/health`));
});

/** Many different requests from concurrent clients; every reply must equal that request's reply when sent alone. */
async function concurrencyCheck(server: RunningServer): Promise<void> {
  const bodies = Array.from({ length: 40 }, (_, i) => ({
    query: `${QUERY} ${'variant '.repeat(i % 7)}${i}`,
    documents: Array.from({ length: 1 + (i % 6) }, (_, d) => `${DOCS[(i + d) % DOCS.length]} ${'extra '.repeat((i * 3 + d) % 25)}`),
  }));
  const alone: number[][] = [];
  for (const body of bodies) {
    const reply = await call(server, '/rerank', { query: body.query, texts: body.documents, raw_scores: true });
    assert.equal(reply.status, 200);
    const byIndex: number[] = [];
    for (const r of reply.body) byIndex[r.index] = r.score;
    alone.push(byIndex);
  }
  const total = 200;
  let next = 0;
  const client = async () => {
    while (next < total) {
      const n = next++;
      const body = bodies[n % bodies.length];
      const reply = await call(server, '/rerank', { query: body.query, texts: body.documents, raw_scores: true });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.equal(reply.body.length, body.documents.length);
      for (const r of reply.body) {
        const expected = alone[n % bodies.length][r.index];
        assert.ok(Math.abs(r.score - expected) < 1e-5, `request ${n}, text ${r.index}: ${r.score} concurrently vs ${expected} alone`);
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, client));
}

test('200 requests from 20 concurrent clients: each gets its own scores, and batches combine requests', { timeout: 120_000 }, async () => {
  const before = await batchCounts(main);
  await concurrencyCheck(main);
  const afterRun = await batchCounts(main);
  const calls = afterRun.calls - before.calls;
  const combined = calls - (afterRun.single - before.single);
  assert.ok(combined > 0, `some model calls served more than one request (${combined} of ${calls})`);
  assert.ok(calls < 240 - 10, `fewer model calls (${calls}) than requests (240)`);
});

test('concurrent embedding requests share encoder calls, and each gets exactly its own vectors', { timeout: 120_000 }, async () => {
  const bi = await BiEncoder.load(biDir, { threads: 1 });
  const requests = Array.from({ length: 40 }, (_, i) => ({ texts: [`text number ${i}`, `another sentence, ${i % 7} words long-ish`], normalize: i % 2 === 0 }));
  const expected = await Promise.all(requests.map((r) => bi.encode(r.texts, { normalize: r.normalize })));
  await bi.dispose();
  const before = await batchCounts(main);
  const answers = await Promise.all(requests.map((r) => call(main, '/embed', { inputs: r.texts, normalize: r.normalize })));
  const afterRun = await batchCounts(main);
  answers.forEach((answer, i) => {
    assert.equal(answer.status, 200);
    answer.body.forEach((vector: number[], j: number) => {
      assert.ok(vector.every((v, d) => Math.abs(v - expected[i][j][d]) < 1e-5), `request ${i}, text ${j}`);
    });
  });
  const calls = afterRun.calls - before.calls;
  assert.ok(calls < requests.length, `${requests.length} requests took ${calls} encoder calls`);
});

test('with batching off every request gets a model call of its own, with the same scores', { timeout: 120_000 }, async () => {
  const server = await start({ batchWaitMs: 0 });
  await concurrencyCheck(server);
  const counts = await batchCounts(server);
  assert.equal(counts.calls, 240);
  assert.equal(counts.single, 240);
});

test('ScoreBatcher: bounded queue, cancel while waiting, one model call for requests that arrive together', { timeout: 120_000 }, async () => {
  // The real cross-encoder scores; the wrapper only records how many sequences each model call carried.
  const calls: number[] = [];
  const scorer = {
    async scoreEncoded(sequences: readonly Encoded[]) {
      calls.push(sequences.length);
      return reference.scoreEncoded(sequences, { activation: 'none' });
    },
  };
  const seq = (i: number): Encoded => reference.tokenizer.encodePair(QUERY, DOCS[i % DOCS.length], { maxLength: 64 });
  const alone = async (i: number) => (await reference.scoreEncoded([seq(i)], { activation: 'none' }))[0];
  const close = async (got: Float32Array, ids: number[]) => {
    assert.equal(got.length, ids.length);
    for (const [k, i] of ids.entries()) assert.ok(Math.abs(got[k] - (await alone(i))) < 1e-5);
  };
  const tokens = seq(1).inputIds.length;
  const batcher = new ScoreBatcher(scorer, { maxBatchTokens: 100 * tokens, maxQueue: 3, batchWaitMs: 30 });
  const a = batcher.submit([seq(1), seq(2)]);
  const b = batcher.submit([seq(3)]);
  const c = batcher.submit([seq(4)]);
  const full = batcher.submit([seq(5)]);
  await assert.rejects(full.scores, QueueFullError);
  assert.equal(c.cancel(), true);
  await close(await a.scores, [1, 2]);
  await close(await b.scores, [3]);
  assert.deepEqual(calls, [3]);
  assert.equal(a.cancel(), false);
  await batcher.close();
  await assert.rejects(batcher.submit([seq(1)]).scores, /shutting down/);

  // A full token budget goes at once, and no request is split across two model calls.
  calls.length = 0;
  const width = Math.max(...[1, 2, 3, 4, 5].map((i) => seq(i).inputIds.length));
  const small = new ScoreBatcher(scorer, { maxBatchTokens: 3 * width, maxQueue: 3, batchWaitMs: 10_000 });
  const parts = [small.submit([seq(1), seq(2), seq(3)]), small.submit([seq(4), seq(5)])];
  // close() serves what was accepted instead of letting the second request wait out its window.
  const closing = small.close();
  await close(await parts[1].scores, [4, 5]);
  await close(await parts[0].scores, [1, 2, 3]);
  assert.deepEqual(calls, [3, 2]);
  await closing;
});

// SIGTERM through the real launcher, with a request in flight: test/cli-commands.test.ts.
