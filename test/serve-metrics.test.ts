/**
 * /metrics on prom-client: the exposition parses as Prometheus text format, the server's counters and histograms move
 * with the requests it answers, process and event-loop metrics are there, and two servers in one process count
 * separately (each has its own registry). Real servers on loopback, real ONNX fixture model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type RunningServer } from '../src/serve/server.js';
import { fixtureModel } from './helpers/fixtures.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

/** Prometheus text format 0.0.4: `# HELP`, `# TYPE`, then `name{label="value",...} number` lines. */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      (comment[1] === 'HELP' ? help : types).set(comment[2], comment[3]);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(sample, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = sample[2] ?? '';
    const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
    let consumed = 0;
    for (let m = pair.exec(labelText); m; m = pair.exec(labelText)) {
      labels[m[1]] = m[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      consumed = pair.lastIndex;
    }
    assert.equal(consumed, labelText.length, `labels not parsed: ${line}`);
    const value = sample[3] === '+Inf' ? Infinity : sample[3] === '-Inf' ? -Infinity : Number(sample[3]);
    assert.ok(!Number.isNaN(value) || sample[3] === 'NaN', `value not a number: ${line}`);
    samples.push({ name: sample[1], labels, value });
  }
  // Every sample belongs to a declared family: itself, or a histogram's _bucket/_sum/_count.
  for (const s of samples) {
    const family = types.has(s.name) ? s.name : s.name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(family), `sample ${s.name} has no # TYPE`);
    assert.ok(help.has(family), `sample ${s.name} has no # HELP`);
  }
  return { types, help, samples };
}

function value(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels);
  return exposition.samples.find((s) => s.name === name && want.every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === want.length)?.value;
}

let model: string;
let first: RunningServer;
let second: RunningServer;

async function scrape(server: RunningServer): Promise<Exposition> {
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

async function rerank(server: RunningServer, body: unknown): Promise<number> {
  const response = await fetch(`${server.url}/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await response.arrayBuffer();
  return response.status;
}

before(async () => {
  model = await fixtureModel({ kind: 'cross-encoder', seed: 3 });
  first = await createServer({ model, port: 0, threads: 1 });
  second = await createServer({ model, port: 0, threads: 1 });
});

after(async () => {
  await first?.close();
  await second?.close();
});

describe('GET /metrics (prom-client)', { timeout: 120_000 }, () => {
  it('declares the server metrics with their types, and process and event-loop metrics', async () => {
    const m = await scrape(first);
    assert.equal(m.types.get('rankwise_requests_total'), 'counter');
    assert.equal(m.types.get('rankwise_request_errors_total'), 'counter');
    assert.equal(m.types.get('rankwise_queue_depth'), 'gauge');
    assert.equal(m.types.get('rankwise_batch_requests'), 'histogram');
    assert.equal(m.types.get('rankwise_batch_sequences'), 'histogram');
    assert.equal(m.types.get('rankwise_request_duration_seconds'), 'histogram');
    assert.equal(value(m, 'rankwise_queue_depth'), 0);
    const rss = value(m, 'process_resident_memory_bytes');
    assert.ok(rss !== undefined && rss > 10 * 1024 * 1024, `process_resident_memory_bytes ${rss}`);
    const lag = value(m, 'nodejs_eventloop_lag_seconds');
    assert.ok(lag !== undefined && lag >= 0, `nodejs_eventloop_lag_seconds ${lag}`);
    assert.equal(m.types.get('nodejs_eventloop_lag_seconds'), 'gauge');
    assert.ok(m.types.has('process_cpu_seconds_total'));
  });

  it('counts requests, errors, latency and batches as they are answered', async () => {
    const before = await scrape(first);
    const ok = (name: string, labels: Record<string, string>) => value(before, name, labels) ?? 0;
    const okBefore = ok('rankwise_requests_total', { route: '/rerank', status: '200' });
    const badBefore = ok('rankwise_requests_total', { route: '/rerank', status: '400' });
    const errorsBefore = ok('rankwise_request_errors_total', { route: '/rerank' });
    const latencyBefore = ok('rankwise_request_duration_seconds_count', { route: '/rerank' });
    const batchesBefore = ok('rankwise_batch_requests_count', {});
    const pairsBefore = ok('rankwise_batch_sequences_sum', {});

    const texts = ['Owls hunt at night.', 'Bread rises with yeast.', 'Night birds see in the dark.'];
    for (let i = 0; i < 3; i++) assert.equal(await rerank(first, { query: 'owls', texts }), 200);
    assert.equal(await rerank(first, { query: 'owls', texts: [] }), 400);
    assert.equal(await rerank(first, { query: 'owls' }), 400);

    const afterScrape = await scrape(first);
    const now = (name: string, labels: Record<string, string>) => value(afterScrape, name, labels) ?? 0;
    assert.equal(now('rankwise_requests_total', { route: '/rerank', status: '200' }) - okBefore, 3);
    assert.equal(now('rankwise_requests_total', { route: '/rerank', status: '400' }) - badBefore, 2);
    assert.equal(now('rankwise_request_errors_total', { route: '/rerank' }) - errorsBefore, 2);
    assert.equal(now('rankwise_request_duration_seconds_count', { route: '/rerank' }) - latencyBefore, 5);
    // The empty list is refused before the model; the three good requests are 3 x 3 pairs in 1 to 3 model calls.
    const batches = now('rankwise_batch_requests_count', {}) - batchesBefore;
    assert.ok(batches >= 1 && batches <= 3, `model calls ${batches}`);
    assert.equal(now('rankwise_batch_sequences_sum', {}) - pairsBefore, 9);

    // Histogram buckets are cumulative and end at the count.
    const buckets = afterScrape.samples.filter((s) => s.name === 'rankwise_request_duration_seconds_bucket' && s.labels.route === '/rerank');
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'cumulative buckets');
    assert.equal(buckets.at(-1)?.labels.le, '+Inf');
    assert.equal(buckets.at(-1)?.value, now('rankwise_request_duration_seconds_count', { route: '/rerank' }));
  });

  it('each server counts only its own requests', async () => {
    const before = value(await scrape(second), 'rankwise_requests_total', { route: '/rerank', status: '200' }) ?? 0;
    assert.equal(await rerank(first, { query: 'q', texts: ['a'] }), 200);
    assert.equal(await rerank(second, { query: 'q', texts: ['a'] }), 200);
    assert.equal(await rerank(second, { query: 'q', texts: ['b'] }), 200);
    const afterSecond = value(await scrape(second), 'rankwise_requests_total', { route: '/rerank', status: '200' }) ?? 0;
    assert.equal(afterSecond - before, 2);
  });
});
