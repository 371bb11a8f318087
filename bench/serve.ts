/**
 * Serving throughput with and without dynamic batching across requests, on the MiniLM-L6-H384-shaped fixture.
 * Three servers run as child processes (the load generator never shares their event loop): two batching (the default
 * token budget per model call, and 1024 tokens), one making a model call per request (`batching: false`). Each load
 * case runs on all three, one after the other, so the ratios are measured side by side under the same machine load:
 *   - 20 documents per request on the TEI route from 10 connections (one request already fills the cores), and
 *   - 1-4 documents per request from 64 connections on the TEI route (`/rerank`) and the Cohere route (`/v2/rerank`),
 *     the case dynamic batching exists for.
 * Run: `npm run bench:serve` (BENCH_SECONDS per case and mode, default 10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '../src/models/random.js';
import { createServer, type ServeOptions } from '../src/serve/server.js';
import { mixedLengthDocuments } from './corpus.js';
import { BENCH_CROSS_ENCODER_DIR, benchCrossEncoder, percentile, report, type BenchRow } from './report.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const MAX_BATCH_TOKENS = Number(process.env.BENCH_MAX_BATCH_TOKENS ?? 8192);
const SINGLE_RUNS = 20;
const MODEL_DIR = BENCH_CROSS_ENCODER_DIR;

interface LoadCase {
  name: string;
  route: '/rerank' | '/v2/rerank';
  minDocs: number;
  maxDocs: number;
  connections: number;
}

const CASES: LoadCase[] = [
  { name: '20 docs, TEI', route: '/rerank', minDocs: 20, maxDocs: 20, connections: Number(process.env.BENCH_CONNECTIONS ?? 10) },
  { name: '1-4 docs, TEI', route: '/rerank', minDocs: 1, maxDocs: 4, connections: 64 },
  { name: '1-4 docs, Cohere', route: '/v2/rerank', minDocs: 1, maxDocs: 4, connections: 64 },
];

// Per-request calls last. On this CPU a model call's cost per sequence is flat from 1 to 64 sequences, and calls
// past ~2k tokens are slower per sequence (their activations leave the cache), so the batched server runs twice:
// with the default token budget and with 1024 tokens per call.
const MODES: Array<{ name: string; options: Partial<ServeOptions> }> = [
  { name: `batching, ${MAX_BATCH_TOKENS} tokens/call`, options: { batching: true, batchWaitMs: 5 } },
  { name: 'batching, 1024 tokens/call', options: { batching: true, batchWaitMs: 5, maxBatchTokens: 1024 } },
  { name: 'call per request', options: { batching: false } },
];

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonOptions {
  url: string;
  timeout: number;
  connections: number;
  duration: number;
  method: string;
  headers: Record<string, string>;
  requests: Array<{ setupRequest: (request: { body?: string }) => { body?: string } }>;
}
// autocannon ships no type declarations; this is the part of its API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as (options: AutocannonOptions) => Promise<AutocannonResult>;

/** 200 request bodies for a case: documents of 10-120 words, a document count drawn from the case's range. */
function bodies(loadCase: LoadCase): string[] {
  const docs = mixedLengthDocuments(1000, 10, 120);
  const rng = new SeededRandom(3);
  let at = 0;
  return Array.from({ length: 200 }, (_, i) => {
    const count = loadCase.minDocs + Math.floor(rng.next() * (loadCase.maxDocs - loadCase.minDocs + 1));
    const texts = Array.from({ length: count }, () => docs[at++ % docs.length]);
    const query = `how do I find a cheap hotel room for ${i + 1} nights in the city`;
    return JSON.stringify(loadCase.route === '/rerank' ? { query, texts, truncate: true } : { query, documents: texts });
  });
}

interface Child {
  child: ChildProcess;
  url: string;
}

async function startChild(options: Partial<ServeOptions>): Promise<Child> {
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

async function stopChild({ child }: Child): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((done) => child.once('exit', done));
}

async function post(url: string, body: string): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

/** CPU seconds a process has used (user + system), from /proc: what serving cost, whatever the wall clock says. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of stat, counted after the ") " that ends the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Requests served and model calls made so far, from the server's own batch histogram. */
async function batchTotals(url: string): Promise<{ requests: number; calls: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const requests = Number(/^rankwise_batch_requests_sum (\S+)$/m.exec(text)?.[1]);
  const calls = Number(/^rankwise_batch_requests_count (\S+)$/m.exec(text)?.[1]);
  return { requests, calls };
}

async function measure(loadCase: LoadCase, mode: string, server: Child, payloads: string[]): Promise<BenchRow> {
  const url = `${server.url}${loadCase.route}`;
  for (let i = 0; i < 10; i++) await post(url, payloads[i % payloads.length]);
  const single: number[] = [];
  for (let i = 0; i < SINGLE_RUNS; i++) {
    const start = performance.now();
    await post(url, payloads[i % payloads.length]);
    single.push(performance.now() - start);
  }
  single.sort((a, b) => a - b);
  const before = await batchTotals(server.url);
  const cpuBefore = cpuSeconds(server.child.pid!);
  const loadCpuBefore = process.cpuUsage();
  let next = 0;
  const result = await autocannon({
    url,
    // The server's own request timeout: a slower answer is the server's 504, not the load generator giving up.
    timeout: 30,
    connections: loadCase.connections,
    duration: SECONDS,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: payloads[next++ % payloads.length] }) }],
  });
  const after = await batchTotals(server.url);
  const served = after.requests - before.requests;
  const serverCpu = cpuSeconds(server.child.pid!) - cpuBefore;
  const loadCpu = process.cpuUsage(loadCpuBefore);
  return {
    case: loadCase.name,
    connections: loadCase.connections,
    mode,
    'req/s': result.requests.average,
    'p50 ms': result.latency.p50,
    'p99 ms': result.latency.p99,
    // Not 200 (429 when the queue is full, 504 past the request timeout) or no answer: counted, not hidden.
    failed: result.non2xx + result.errors,
    'idle p50 ms': percentile(single, 50),
    'requests/call': served / (after.calls - before.calls),
    'server CPU ms/req': (serverCpu * 1000) / served,
    'load generator CPU %': ((loadCpu.user + loadCpu.system) / 1e6 / SECONDS) * 100,
  };
}

async function main(): Promise<void> {
  await benchCrossEncoder();
  // Both servers stay up for the whole run; the idle one costs nothing while the other is measured.
  const servers: Child[] = [];
  try {
    for (const mode of MODES) servers.push(await startChild(mode.options));
    const rows: BenchRow[] = [];
    const comparisons: Array<Record<string, number | string>> = [];
    const only = process.env.BENCH_CASES?.split(',');
    for (const loadCase of CASES.filter((c) => !only || only.some((name) => c.name.includes(name)))) {
      const payloads = bodies(loadCase);
      const measured: BenchRow[] = [];
      for (const [i, mode] of MODES.entries()) measured.push(await measure(loadCase, mode.name, servers[i], payloads));
      rows.push(...measured);
      const alone = measured.at(-1)!;
      for (const batched of measured.slice(0, -1)) {
        comparisons.push({
          case: loadCase.name,
          mode: batched.mode,
          speedup: Number(batched['req/s']) / Number(alone['req/s']),
          p99Ratio: Number(batched['p99 ms']) / Number(alone['p99 ms']),
        });
      }
    }
    process.stdout.write(
      `\nbatching (wait up to 5 ms) vs one model call per request, ${SECONDS} s per case and mode, ` +
        `MiniLM-L6-H384 shape, ${THREADS} threads; documents of 10-120 words.\n` +
        `The load generator (autocannon) runs in this process on the same ${cpus().length} cores as the server, so both ` +
        `modes lose the same share of CPU to it.\n\n`,
    );
    const name = process.env.BENCH_NAME ?? 'serve';
    await report(name, rows, {
      comparisons,
      target: { smallRequestSpeedup: 2, p99: 'batching p99 <= call-per-request p99' },
      maxBatchTokens: MAX_BATCH_TOKENS,
      seconds: SECONDS,
      threads: THREADS,
      loadGenerator: 'autocannon, in the bench process; the servers are child processes on the same cores',
    });
    for (const c of comparisons) {
      process.stdout.write(`${c.case}, ${c.mode} / call per request: ${Number(c.speedup).toFixed(2)}x req/s, p99 ratio ${Number(c.p99Ratio).toFixed(2)}\n`);
    }
  } finally {
    for (const server of servers) await stopChild(server);
  }
}

// The same file is the server process (--child) and the load generator.
if (process.argv[2] === '--child') {
  const server = await createServer(JSON.parse(process.argv[3]) as ServeOptions);
  process.stdout.write(`${server.url}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
} else {
  await main();
}
