import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { findDefaultGguf } from '../src/rank/llm/llama-cpp.js';
import { LlmListwiseRanker } from '../src/rank/llm/listwise-ranker.js';
import { OpenAICompatibleProvider } from '../src/rank/llm/openai-compatible.js';
import { buildRankingPrompt } from '../src/rank/llm/ranking-prompt.js';
import { rankingSchema } from '../src/rank/llm/ranking-schema.js';
import { ROOT } from './helpers/cli.js';
import { startLlamaServer, type LlamaServer } from './helpers/llama-server.js';
import { freePort } from './helpers/processes.js';

const DOCS = ['Hold the reset button for ten seconds.', 'Our shop opens at nine.', 'Sign in and choose Factory Reset.'];
const QUERY = 'how do I reset my router';
const FAST_RETRY = { retries: 2, baseDelayMs: 5, maxDelayMs: 20 };

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

/** A real HTTP server on loopback that answers like a broken LLM endpoint, and records what it was sent. */
class MisbehavingServer {
  readonly requests: Array<{ headers: IncomingMessage['headers']; body: Record<string, unknown> }> = [];
  private server?: Server;
  handler: Handler = () => undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        this.requests.push({ headers: request.headers, body: JSON.parse(body) });
        this.handler(request, body, response);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

function chatAnswer(content: string): Handler {
  return (_request, _body, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
  };
}

describe('OpenAICompatibleProvider against a misbehaving HTTP server', () => {
  const server = new MisbehavingServer();
  let baseUrl = '';
  before(async () => {
    baseUrl = await server.start();
  });
  after(() => server.stop());

  test('sends strict json_schema structured output and the key; bad ids are repaired and reported', async () => {
    server.requests.length = 0;
    server.handler = chatAnswer('{"ranking": [7, 3, 3, "two"]}');
    const provider = new OpenAICompatibleProvider({ baseUrl, model: 'm', apiKey: 'secret', env: {} });
    const result = await new LlmListwiseRanker(provider, FAST_RETRY).rank(QUERY, DOCS);
    assert.deepEqual(result.results.map((r) => r.index), [2, 0, 1]);
    assert.deepEqual(result.llm.windows[0].repairs, { invalid: [7, 'two'], duplicates: [2], missing: [0, 1] });
    assert.equal(result.llm.retries, 0);
    const sent = server.requests[0];
    assert.equal(sent.headers.authorization, 'Bearer secret');
    assert.equal(sent.body.model, 'm');
    const format = sent.body.response_format as { type: string; json_schema: { name: string; strict: boolean; schema: Record<string, unknown> } };
    assert.equal(format.type, 'json_schema');
    assert.equal(format.json_schema.strict, true);
    assert.equal(format.json_schema.name, 'ranking_response');
    assert.deepEqual(format.json_schema.schema.required, ['ranking']);
  });

  test('an answer that is not JSON is retried, then the previous order is kept and the failure reported', async () => {
    server.requests.length = 0;
    server.handler = chatAnswer('Once upon a time, there was a ranking');
    const provider = new OpenAICompatibleProvider({ baseUrl, env: {} });
    const result = await new LlmListwiseRanker(provider, FAST_RETRY).rank(QUERY, DOCS);
    assert.equal(server.requests.length, 3);
    assert.equal(result.llm.attempts, 3);
    assert.deepEqual(result.results.map((r) => r.index), [0, 1, 2]);
    assert.match(result.llm.failure!, /answer is not JSON/);
  });

  test('a response body that is not JSON, and 503s, are retried until an answer comes', async () => {
    server.requests.length = 0;
    let calls = 0;
    server.handler = (request, body, response) => {
      calls++;
      if (calls === 1) return void response.writeHead(200).end('<html>proxy error</html>');
      if (calls === 2) return void response.writeHead(503).end('busy');
      chatAnswer('{"ranking": [3, 1, 2]}')(request, body, response);
    };
    const result = await new LlmListwiseRanker(new OpenAICompatibleProvider({ baseUrl, env: {} }), FAST_RETRY).rank(QUERY, DOCS);
    assert.equal(calls, 3);
    assert.deepEqual(result.results.map((r) => r.index), [2, 0, 1]);
    assert.deepEqual(result.llm.windows[0].failures.map((f) => f.message.slice(0, 40)), [
      `${baseUrl}/chat/completions: the response is not JSON`.slice(0, 40),
      `HTTP 503 from ${baseUrl}/chat/completions`.slice(0, 40),
    ]);
  });

  test('a 401 is not retried', async () => {
    server.requests.length = 0;
    server.handler = (_request, _body, response) => void response.writeHead(401).end('{"error":"bad key"}');
    const result = await new LlmListwiseRanker(new OpenAICompatibleProvider({ baseUrl, env: {} }), FAST_RETRY).rank(QUERY, DOCS);
    assert.equal(server.requests.length, 1);
    assert.match(result.llm.failure!, /HTTP 401/);
  });

  test('a server that never answers times out on every attempt', async () => {
    server.requests.length = 0;
    server.handler = () => undefined; // holds the connection open
    const started = Date.now();
    const result = await new LlmListwiseRanker(new OpenAICompatibleProvider({ baseUrl, env: {} }), { ...FAST_RETRY, retries: 1, timeoutMs: 150 }).rank(QUERY, DOCS);
    assert.equal(server.requests.length, 2);
    assert.equal(result.llm.failure, 'timed out after 150 ms');
    assert.deepEqual(result.results.map((r) => r.index), [0, 1, 2]);
    assert.ok(Date.now() - started >= 300);
  });

  test('nothing listening: connection refused on every attempt, no throw', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/v1`;
    const result = await new LlmListwiseRanker(new OpenAICompatibleProvider({ baseUrl: closed, env: {} }), FAST_RETRY).rank(QUERY, DOCS);
    assert.equal(result.llm.attempts, 3);
    assert.equal(result.llm.failedWindows, 1);
    assert.match(result.llm.failure!, /fetch failed/);
  });
});

describe('OpenAICompatibleProvider against a real llama-server (stories260K.gguf)', () => {
  const model = findDefaultGguf(ROOT, {});
  let server: LlamaServer;
  before(async () => {
    assert.ok(model, 'the tiny test model ../shared/models/stories260K.gguf is missing');
    server = await startLlamaServer(model);
  });
  after(() => server?.stop());

  test('answers parse under the schema; the ranker returns a permutation', async () => {
    const provider = new OpenAICompatibleProvider({ baseUrl: server.baseUrl, model: 'stories260K', maxTokens: 64, env: {} });
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const answer = await provider.complete({ ...buildRankingPrompt(QUERY, DOCS), schema: rankingSchema(DOCS.length) });
      latencies.push(performance.now() - t0);
      const value = JSON.parse(answer);
      assert.ok(Array.isArray(value.ranking) && value.ranking.every((n: unknown) => Number.isInteger(n)), answer);
    }
    process.stdout.write(`# llama-server latency per call (ms): ${latencies.map((ms) => ms.toFixed(0)).join(', ')}\n`);
    const result = await new LlmListwiseRanker(provider, FAST_RETRY).rank(QUERY, DOCS);
    assert.deepEqual(result.results.map((r) => r.index).sort(), [0, 1, 2]);
    assert.equal(result.llm.failedWindows, 0);
  });

  test('a tiny time-out fails every attempt without throwing', async () => {
    const provider = new OpenAICompatibleProvider({ baseUrl: server.baseUrl, maxTokens: 64, env: {} });
    const result = await new LlmListwiseRanker(provider, { ...FAST_RETRY, timeoutMs: 1 }).rank(QUERY, DOCS);
    assert.equal(result.llm.attempts, 3);
    assert.equal(result.llm.failure, 'timed out after 1 ms');
    assert.deepEqual(result.results.map((r) => r.index), [0, 1, 2]);
  });

  test('stopped between calls: the next ranking keeps the previous order, retries, reports, does not throw', async () => {
    const provider = new OpenAICompatibleProvider({ baseUrl: server.baseUrl, maxTokens: 64, env: {} });
    const ranker = new LlmListwiseRanker(provider, FAST_RETRY);
    const before = await ranker.rank(QUERY, DOCS);
    assert.equal(before.llm.failedWindows, 0);
    await server.stop();
    const afterStop = await ranker.rank(QUERY, DOCS);
    assert.equal(afterStop.llm.attempts, 3);
    assert.equal(afterStop.llm.retries, 2);
    assert.equal(afterStop.llm.failedWindows, 1);
    assert.match(afterStop.llm.failure!, /fetch failed/);
    assert.deepEqual(afterStop.results.map((r) => r.index), [0, 1, 2]);
  });
});
