/**
 * Serving throughput with and without dynamic batching across requests, on the MiniLM-L6-H384-shaped fixture: the
 * server runs in a child process (so the load generator does not share its event loop) and autocannon drives
 * `POST /rerank` with 20 documents per request from several connections. Run: `node --import tsx bench/serve.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createServer, type ServeOptions } from '../src/serve/server.js';
import { mixedLengthDocuments } from './corpus.js';
import { BENCH_CROSS_ENCODER_DIR, benchCrossEncoder, percentile, report } from './report.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const DOCS_PER_REQUEST = Number(process.env.BENCH_DOCS ?? 20);
const MAX_BATCH_TOKENS = Number(process.env.BENCH_MAX_BATCH_TOKENS ?? 8192);
const SINGLE_RUNS = 20;
const MODEL_DIR = BENCH_CROSS_ENCODER_DIR;

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  method: string;
  headers: Record<string, string>;
  requests: Array<{ setupRequest: (request: { body?: string }) => { body?: string } }>;
}
// autocannon ships no type declarations; this is the part of its API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as (options: AutocannonOptions) => Promise<AutocannonResult>;

function bodies(): string[] {
  const docs = mixedLengthDocuments(1000, 10, 120);
  return Array.from({ length: 50 }, (_, i) =>
    JSON.stringify({
      query: `how do I find a cheap hotel room for ${i + 1} nights in the city`,
      texts: docs.slice((i * DOCS_PER_REQUEST) % docs.length, (i * DOCS_PER_REQUEST) % docs.length + DOCS_PER_REQUEST),
      truncate: true,
    }),
  );
}

async function startChild(options: Partial<ServeOptions>): Promise<{ child: ChildProcess; url: string }> {
  const script = fileURLToPath(import.meta.url);
  const serveOptions: ServeOptions = { model: MODEL_DIR, port: 0, threads: THREADS, maxBatchTokens: MAX_BATCH_TOKENS, ...options };
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--child', JSON.stringify(serveOptions)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolveUrl(out.trim());
    });
    child.on('exit', (code) => reject(new Error(`server exited with code ${code}`)));
  });
  return { child, url };
}

async function post(url: string, body: string): Promise<void> {
  const response = await fetch(`${url}/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

/** Requests served and model calls made so far, from the server's own batch histogram. */
async function batchTotals(url: string): Promise<{ requests: number; calls: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const requests = Number(/^rankwise_batch_requests_sum (\S+)$/m.exec(text)?.[1]);
  const calls = Number(/^rankwise_batch_requests_count (\S+)$/m.exec(text)?.[1]);
  return { requests, calls };
}

async function measure(mode: string, options: Partial<ServeOptions>, payloads: string[]) {
  const { child, url } = await startChild(options);
  try {
    for (let i = 0; i < 10; i++) await post(url, payloads[i % payloads.length]);
    const single: number[] = [];
    for (let i = 0; i < SINGLE_RUNS; i++) {
      const start = performance.now();
      await post(url, payloads[i % payloads.length]);
      single.push(performance.now() - start);
    }
    single.sort((a, b) => a - b);
    const before = await batchTotals(url);
    let next = 0;
    const result = await autocannon({
      url: `${url}/rerank`,
      connections: CONNECTIONS,
      duration: SECONDS,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (request) => ({ ...request, body: payloads[next++ % payloads.length] }) }],
    });
    const afterLoad = await batchTotals(url);
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${mode}: ${result.non2xx} non-2xx replies, ${result.errors} errors`);
    return {
      mode,
      'req/s': result.requests.average,
      'p50 ms': result.latency.p50,
      'p99 ms': result.latency.p99,
      'single p50 ms': percentile(single, 50),
      'single p99 ms': percentile(single, 99),
      'requests/call': (afterLoad.requests - before.requests) / (afterLoad.calls - before.calls),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
  }
}

async function main(): Promise<void> {
  await benchCrossEncoder();
  const payloads = bodies();
  const batched = await measure('batching (wait 5 ms)', { batchWaitMs: 5 }, payloads);
  const alone = await measure('per request', { batchWaitMs: 0 }, payloads);
  const speedup = batched['req/s'] / alone['req/s'];
  // The single-request baseline is per-request serving with no load: what one client sees on an idle server.
  const p99OverSingle = batched['p99 ms'] / alone['single p50 ms'];
  process.stdout.write(
    `\nPOST /rerank, ${DOCS_PER_REQUEST} documents of 10-120 words per request, ${CONNECTIONS} connections, ${SECONDS} s per mode, ` +
      `max ${MAX_BATCH_TOKENS} padded tokens per model call, MiniLM-L6-H384 shape, ${THREADS} threads\n\n`,
  );
  const name = process.env.BENCH_NAME ?? 'serve';
  await report(name, [batched, alone], {
    maxBatchTokens: MAX_BATCH_TOKENS,
    speedup,
    batchedP99OverSingleP50: p99OverSingle,
    target: { speedup: 1.5, p99OverSingle: 2 },
    connections: CONNECTIONS,
    seconds: SECONDS,
    documentsPerRequest: DOCS_PER_REQUEST,
    threads: THREADS,
  });
  process.stdout.write(`batching / per request: ${speedup.toFixed(2)}x req/s; batched p99 / single-request p50: ${p99OverSingle.toFixed(2)}x\n`);
}

// The same file is the server process (--child) and the load generator.
if (process.argv[2] === '--child') {
  const server = await createServer(JSON.parse(process.argv[3]) as ServeOptions);
  process.stdout.write(`${server.url}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
} else {
  await main();
}
