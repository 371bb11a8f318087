/**
 * Soak and chaos: two `rankwise serve` replicas over one LanceDB index and one Redis semantic cache, behind nginx on
 * loopback, take mixed valid and invalid requests from many clients for a fixed time while
 *   - a writer keeps adding documents to the index (`rankwise index add`) and deleting some (`rankwise index delete`),
 *   - replicas are killed (SIGKILL and SIGTERM, in turn) and restarted, one at a time, and
 *   - Redis is restarted.
 * It reports requests served, errors by kind (status codes, connection errors), p50/p99 latency, each replica's RSS
 * and open descriptors over time (from /proc), and at the end checks that no acknowledged write was lost (every id
 * whose `index add` exited 0 and was not deleted afterwards is found by text search, no deleted id is) and that
 * `rankwise index stats` counts exactly the documents expected.
 *
 * Run: `npm run bench:soak` (`--seconds N`, default 120; `--clients N`, default 16; `--json` prints only the result).
 * Needs nginx and redis-server on PATH. The reranker is a small fixture cross-encoder, so that the run measures the
 * serving system rather than the model; the text-only index keeps each `index add` free of model loading.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { table } from '../src/present/table.js';
import { createFixtureModel } from '../src/models/fixture.js';
import { LanceDbRetriever } from '../src/retrieve/lancedb.js';
import { rankwise, ROOT } from '../test/helpers/cli.js';
import { freePort, portOpen, startProcess, type ServerProcess } from '../test/helpers/processes.js';
import { percentile, writeResult, type BenchRow } from './report.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    clients: { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
if (!Number.isFinite(SECONDS) || SECONDS < 10) throw new Error(`--seconds: expected a number of seconds >= 10, got ${args.seconds}`);
if (!Number.isInteger(CLIENTS) || CLIENTS < 1) throw new Error(`--clients: expected a positive integer, got ${args.clients}`);
const QUIET = args.json;
const SHOW_PROGRESS = !QUIET && process.stderr.isTTY;
const BASE_DOCUMENTS = 200;
const REQUEST_TIMEOUT_MS = 30_000;

function say(line: string): void {
  if (!QUIET) process.stderr.write(`${line}\n`);
}

// ---- documents: every one carries a letters-only marker word, so that text search finds exactly it --------------

const TOPICS = 'hotel booking refund password reset router firmware printer driver laptop battery invoice shipping warranty'.split(' ');

function marker(n: number): string {
  let word = '';
  for (let x = n + 1; x > 0; x = Math.floor((x - 1) / 26)) word = String.fromCharCode(97 + ((x - 1) % 26)) + word;
  return `zq${word}`;
}

function documentLine(id: string, n: number): string {
  const topic = (i: number) => TOPICS[(n * 7 + i) % TOPICS.length];
  return JSON.stringify({ id, text: `${marker(n)} how to handle the ${topic(0)} and the ${topic(1)} for a ${topic(2)} request ${topic(3)}` });
}

// ---- the system under test -------------------------------------------------------------------------------------

interface Replica {
  name: string;
  port: number;
  process: ServerProcess | undefined;
  starts: number;
}

interface Sample {
  t: number;
  replica: string;
  pid: number;
  rssMb: number;
  fds: number;
}

class System {
  readonly replicas: Replica[] = [];
  redis: ServerProcess | undefined;
  nginx: ServerProcess | undefined;
  redisPort = 0;
  balancer = '';

  constructor(
    readonly work: string,
    readonly index: string,
    readonly model: string,
  ) {}

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  async startRedis(): Promise<void> {
    this.redisPort ||= await freePort();
    this.redis = await startProcess(
      'redis-server',
      ['--port', String(this.redisPort), '--bind', '127.0.0.1', '--dir', this.work, '--save', '', '--appendonly', 'no'],
      { what: 'redis-server', ready: () => portOpen(this.redisPort) },
    );
  }

  async startReplica(replica: Replica): Promise<void> {
    const url = `http://127.0.0.1:${replica.port}`;
    const cli = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', '--model', this.model, '--index', this.index];
    const flags = ['--cache', this.redisUrl, '--port', String(replica.port), '--threads', '1'];
    replica.process = await startProcess(process.execPath, [...cli, ...flags], {
      what: replica.name,
      ready: async () => (await fetch(`${url}/health`)).ok,
      timeoutMs: 120_000,
      cwd: ROOT,
      env: { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' },
    });
    replica.starts++;
  }

  async startNginx(): Promise<void> {
    const port = await freePort();
    const conf = join(this.work, 'nginx.conf');
    const upstreams = this.replicas.map((r) => `server 127.0.0.1:${r.port} max_fails=1 fail_timeout=2s;`).join(' ');
    // Reranking and search change nothing, so a request that met a dead replica may be retried on the other one.
    await writeFile(
      conf,
      `daemon off;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${this.work}/nginx.pid;
error_log ${this.work}/nginx-error.log error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${this.work}/nginx-body;
  proxy_temp_path ${this.work}/nginx-proxy;
  fastcgi_temp_path ${this.work}/nginx-fastcgi;
  uwsgi_temp_path ${this.work}/nginx-uwsgi;
  scgi_temp_path ${this.work}/nginx-scgi;
  client_max_body_size 4m;
  upstream rankwise { ${upstreams} }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://rankwise;
      proxy_next_upstream error timeout http_503 non_idempotent;
      proxy_read_timeout 60s;
    }
  }
}
`,
    );
    this.balancer = `http://127.0.0.1:${port}`;
    this.nginx = await startProcess('nginx', ['-c', conf, '-p', this.work], { what: 'nginx', ready: () => portOpen(port) });
  }

  /** RSS and open descriptors of every live replica, from /proc. */
  sample(t: number): Sample[] {
    const samples: Sample[] = [];
    for (const replica of this.replicas) {
      const pid = replica.process?.child.pid;
      if (pid === undefined || replica.process!.child.exitCode !== null || replica.process!.child.signalCode !== null) continue;
      try {
        const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
        samples.push({ t, replica: replica.name, pid, rssMb: rssKb / 1024, fds: readdirSync(`/proc/${pid}/fd`).length });
      } catch {
        // exited between the check and the read
      }
    }
    return samples;
  }

  async stop(): Promise<void> {
    for (const replica of this.replicas) await replica.process?.stop(10_000);
    await this.nginx?.stop();
    await this.redis?.stop();
  }
}

// ---- load: mixed valid and invalid requests -----------------------------------------------------------------------

interface RequestKind {
  name: string;
  /** Statuses that are the right answer: 200 for valid requests, the documented 4xx for invalid ones. */
  expected: number[];
  weight: number;
  make: (i: number) => { method: string; path: string; body?: string; contentType?: string };
}

const QUERIES = ['how do I reset my router password', 'refund for a hotel booking', 'printer driver for my laptop', 'warranty on a battery'];
const json = 'application/json';
const KINDS: RequestKind[] = [
  {
    name: 'search',
    expected: [200],
    weight: 30,
    // Half repeat a few queries (cache hits), half are new (cache misses, retrieval and reranking).
    make: (i) => ({ method: 'POST', path: '/search', body: JSON.stringify({ query: i % 2 ? QUERIES[i % 4] : `${QUERIES[i % 4]} ${i}`, k: 5 }), contentType: json }),
  },
  {
    name: 'rerank (Cohere)',
    expected: [200],
    weight: 25,
    make: (i) => ({ method: 'POST', path: '/v2/rerank', body: JSON.stringify({ query: QUERIES[i % 4], documents: TOPICS.slice(0, 1 + (i % 4)) }), contentType: json }),
  },
  {
    name: 'rerank (TEI)',
    expected: [200],
    weight: 20,
    make: (i) => ({ method: 'POST', path: '/rerank', body: JSON.stringify({ query: QUERIES[i % 4], texts: TOPICS.slice(i % 5, 8) }), contentType: json }),
  },
  { name: 'invalid: no query', expected: [400], weight: 5, make: () => ({ method: 'POST', path: '/v2/rerank', body: JSON.stringify({ documents: ['a'] }), contentType: json }) },
  { name: 'invalid: bad JSON', expected: [400], weight: 5, make: () => ({ method: 'POST', path: '/rerank', body: '{"query": "x", "texts": [', contentType: json }) },
  { name: 'invalid: XML body', expected: [415], weight: 4, make: () => ({ method: 'POST', path: '/v2/rerank', body: '<query>x</query>', contentType: 'application/xml' }) },
  {
    name: 'invalid: document too long',
    expected: [413],
    weight: 3,
    make: () => ({ method: 'POST', path: '/v2/rerank', body: JSON.stringify({ query: 'x', documents: ['y'.repeat(20_001)] }), contentType: json }),
  },
  { name: 'invalid: empty search', expected: [400], weight: 3, make: () => ({ method: 'POST', path: '/search', body: JSON.stringify({ query: ' ' }), contentType: json }) },
  { name: 'invalid: GET /v2/rerank', expected: [404, 405], weight: 5, make: () => ({ method: 'GET', path: '/v2/rerank' }) },
];

interface KindStats {
  sent: number;
  ok: number;
  /** `status 502`, `ECONNRESET`, `timeout`...: every answer that was not one of `expected`. */
  errors: Map<string, number>;
  /** The first answer of each error kind, to say what went wrong. */
  samples: Map<string, string>;
  latencies: number[];
}

function errorKind(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: string; name?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
  return e.cause?.code ?? e.cause?.name ?? e.name ?? 'error';
}

class Load {
  readonly stats = new Map<string, KindStats>(KINDS.map((k) => [k.name, { sent: 0, ok: 0, errors: new Map(), samples: new Map(), latencies: [] }]));
  private stopped = false;
  private counter = 0;
  private readonly started = performance.now();
  private readonly totalWeight = KINDS.reduce((sum, k) => sum + k.weight, 0);

  constructor(private readonly url: string) {}

  private pick(i: number): RequestKind {
    // A fixed, interleaved order (Weyl sequence) rather than random: runs compare like for like.
    let x = ((i * 0.6180339887) % 1) * this.totalWeight;
    for (const kind of KINDS) {
      if ((x -= kind.weight) < 0) return kind;
    }
    return KINDS[0];
  }

  private async client(): Promise<void> {
    while (!this.stopped) {
      const i = this.counter++;
      const kind = this.pick(i);
      const { method, path, body, contentType } = kind.make(i);
      const stats = this.stats.get(kind.name)!;
      stats.sent++;
      const started = performance.now();
      let outcome: string;
      let detail = '';
      try {
        const response = await fetch(`${this.url}${path}`, {
          method,
          body,
          headers: contentType ? { 'content-type': contentType } : {},
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        detail = (await response.text()).slice(0, 300);
        outcome = kind.expected.includes(response.status) ? 'ok' : `status ${response.status}`;
      } catch (error) {
        outcome = errorKind(error);
        detail = String((error as Error).cause ?? (error as Error).message);
      }
      if (outcome === 'ok') {
        stats.ok++;
        stats.latencies.push(performance.now() - started);
      } else {
        stats.errors.set(outcome, (stats.errors.get(outcome) ?? 0) + 1);
        if (!stats.samples.has(outcome)) stats.samples.set(outcome, `${((performance.now() - this.started) / 1000).toFixed(0)} s: ${detail}`);
      }
    }
  }

  run(clients: number): Promise<void[]> {
    return Promise.all(Array.from({ length: clients }, () => this.client()));
  }

  stop(): void {
    this.stopped = true;
  }

  get sent(): number {
    return [...this.stats.values()].reduce((sum, s) => sum + s.sent, 0);
  }

  get failed(): number {
    return [...this.stats.values()].reduce((sum, s) => sum + [...s.errors.values()].reduce((a, b) => a + b, 0), 0);
  }
}

// ---- the writer: acknowledged adds and deletes --------------------------------------------------------------------

class Writer {
  /** Ids whose `index add` exited 0 and that no later acknowledged delete removed. */
  readonly live = new Set<string>();
  /** Ids an acknowledged delete removed (and no later add brought back). */
  readonly deleted = new Set<string>();
  /** Ids of a write that failed: either state is allowed for them. */
  readonly uncertain = new Set<string>();
  adds = { ok: 0, failed: 0 };
  deletes = { ok: 0, failed: 0 };
  readonly failures: string[] = [];
  private stopped = false;
  private next = BASE_DOCUMENTS;

  constructor(
    private readonly index: string,
    private readonly work: string,
  ) {}

  async addBase(): Promise<void> {
    const ids = Array.from({ length: BASE_DOCUMENTS }, (_, n) => `base-${n}`);
    await this.add(ids.map((id, n) => ({ id, n })));
    if (this.adds.ok !== 1) throw new Error(`the first index add failed: ${this.failures.join('; ')}`);
  }

  private async add(docs: Array<{ id: string; n: number }>): Promise<void> {
    const file = join(this.work, `add-${docs[0].n}.jsonl`);
    await writeFile(file, docs.map((d) => documentLine(d.id, d.n)).join('\n') + '\n');
    const outcome = await rankwise('index', 'add', '--index', this.index, '--docs', file, '--model', 'none', '--json');
    this.acknowledge('add', docs.map((d) => d.id), outcome);
  }

  private async remove(ids: string[]): Promise<void> {
    this.acknowledge('delete', ids, await rankwise('index', 'delete', '--index', this.index, '--ids', ids.join(','), '--json'));
  }

  /** What an exit code says about the ids: 0, they are where the write put them; otherwise either state is possible. */
  private acknowledge(what: 'add' | 'delete', ids: string[], outcome: { code: number; stderr: string }): void {
    const [into, outOf] = what === 'add' ? [this.live, this.deleted] : [this.deleted, this.live];
    for (const id of ids) {
      if (outcome.code === 0) {
        into.add(id);
        outOf.delete(id);
        this.uncertain.delete(id);
      } else this.uncertain.add(id);
    }
    const counts = what === 'add' ? this.adds : this.deletes;
    if (outcome.code === 0) counts.ok++;
    else {
      counts.failed++;
      this.failures.push(`${what} exited ${outcome.code}: ${outcome.stderr.trim().split('\n').at(-1)}`);
    }
  }

  /** Adds 5 new documents per round; every second round deletes 3 written earlier and re-adds (replaces) one. */
  async run(): Promise<void> {
    for (let round = 0; !this.stopped; round++) {
      const docs = Array.from({ length: 5 }, () => {
        const n = this.next++;
        return { id: `w-${n}`, n };
      });
      await this.add(docs);
      if (round % 2 === 1 && !this.stopped) {
        const written = [...this.live].filter((id) => id.startsWith('w-'));
        if (written.length === 0) continue;
        const victims = [0, 1, 2].map((k) => written[(round * 7 + k * 11) % written.length]).filter((id, i, all) => all.indexOf(id) === i);
        await this.remove(victims);
        const replaced = written[(round * 13) % written.length];
        if (!this.stopped && !victims.includes(replaced)) await this.add([{ id: replaced, n: Number(replaced.slice(2)) }]);
      }
    }
  }

  stop(): void {
    this.stopped = true;
  }
}

/** Every live id is found by its marker, no deleted id is, and the index counts exactly the live documents. */
async function checkIndex(index: string, writer: Writer) {
  const retriever = await LanceDbRetriever.open(index);
  const lost: string[] = [];
  const resurrected: string[] = [];
  const duplicated: string[] = [];
  try {
    const idOf = (id: string) => (id.startsWith('base-') ? Number(id.slice(5)) : Number(id.slice(2)));
    // Ids of a failed write may be in either state; every other id must be exactly where the acknowledgements say.
    for (const id of writer.live) {
      if (writer.uncertain.has(id)) continue;
      const hits = await retriever.search(marker(idOf(id)), { k: 3, mode: 'text' });
      const same = hits.filter((h) => h.id === id).length;
      if (same === 0) lost.push(id);
      if (same > 1) duplicated.push(id);
    }
    for (const id of writer.deleted) {
      if (writer.uncertain.has(id)) continue;
      const hits = await retriever.search(marker(idOf(id)), { k: 3, mode: 'text' });
      if (hits.some((h) => h.id === id)) resurrected.push(id);
    }
  } finally {
    await retriever.close();
  }
  const stats = await rankwise('index', 'stats', '--index', index, '--json');
  const counted = stats.code === 0 ? (JSON.parse(stats.stdout) as { documents: number }).documents : NaN;
  const certain = [...writer.live].filter((id) => !writer.uncertain.has(id)).length;
  const countOk = counted >= certain && counted <= certain + writer.uncertain.size;
  return {
    live: writer.live.size,
    deleted: writer.deleted.size,
    uncertain: writer.uncertain.size,
    lost,
    resurrected,
    duplicated,
    statsCount: counted,
    expectedCount: certain,
    countOk,
    ok: lost.length === 0 && resurrected.length === 0 && duplicated.length === 0 && countOk,
  };
}

// ---- chaos --------------------------------------------------------------------------------------------------------

interface ChaosEvent {
  atS: number;
  action: string;
  /** Seconds until the process was serving again. */
  backAfterS?: number;
  error?: string;
}

async function chaos(system: System, events: ChaosEvent[], started: number, intervalS: number, stopped: () => boolean): Promise<void> {
  // No event starts in the last 15% of the run, so the run ends with every process back and its requests counted.
  const lastStartS = SECONDS * 0.85;
  const steps: Array<{ action: string; run: () => Promise<void> }> = [];
  const restartReplica = (index: number, signal: 'SIGKILL' | 'SIGTERM') => ({
    action: `${signal} ${system.replicas[index].name}`,
    run: async () => {
      const replica = system.replicas[index];
      const child = replica.process!.child;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill(signal);
      // A SIGTERM that does not end the process within 15 s is itself a finding; SIGKILL follows.
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      await system.startReplica(replica);
    },
  });
  steps.push(
    restartReplica(0, 'SIGKILL'),
    { action: 'restart redis', run: async () => (await system.redis!.stop(), await system.startRedis()) },
    restartReplica(1, 'SIGTERM'),
    restartReplica(1, 'SIGKILL'),
    { action: 'SIGKILL redis', run: async () => (system.redis!.child.kill('SIGKILL'), await sleep(1000), await system.startRedis()) },
    restartReplica(0, 'SIGTERM'),
  );
  for (let step = 0; ; step++) {
    for (const until = performance.now() + intervalS * 1000; performance.now() < until && !stopped(); ) await sleep(250);
    if (stopped()) return;
    if ((performance.now() - started) / 1000 > lastStartS) continue;
    const { action, run } = steps[step % steps.length];
    const at = performance.now();
    const event: ChaosEvent = { atS: (at - started) / 1000, action };
    events.push(event);
    try {
      await run();
      event.backAfterS = (performance.now() - at) / 1000;
    } catch (error) {
      event.error = (error as Error).message.split('\n')[0];
    }
  }
}

// ---- the run ------------------------------------------------------------------------------------------------------

function latencySummary(latencies: number[]): { p50: number; p99: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: sorted.length ? percentile(sorted, 50) : NaN, p99: sorted.length ? percentile(sorted, 99) : NaN };
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'rankwise-soak-'));
  const index = join(work, 'index');
  const model = join(work, 'reranker');
  const system = new System(work, index, model);
  try {
    say(`soak: setting up in ${work}`);
    // A small cross-encoder: the soak is about the serving system (processes, stores, balancer), not model speed.
    await createFixtureModel(model, { kind: 'cross-encoder', layers: 2, hidden: 64, heads: 2, intermediate: 128, seed: 1 });
    const writer = new Writer(index, work);
    await writer.addBase();
    await system.startRedis();
    for (const name of ['replica 1', 'replica 2']) system.replicas.push({ name, port: await freePort(), process: undefined, starts: 0 });
    for (const replica of system.replicas) await system.startReplica(replica);
    await system.startNginx();
    say(`soak: ${system.replicas.length} replicas behind nginx at ${system.balancer}, Redis at ${system.redisUrl}; ${CLIENTS} clients for ${SECONDS} s`);

    const load = new Load(system.balancer);
    const events: ChaosEvent[] = [];
    const samples: Sample[] = [];
    const started = performance.now();
    let stopped = false;
    const loadDone = load.run(CLIENTS);
    const writerDone = writer.run();
    const chaosDone = chaos(system, events, started, Math.max(5, SECONDS / 8), () => stopped);
    while ((performance.now() - started) / 1000 < SECONDS) {
      await sleep(1000);
      const t = Math.round((performance.now() - started) / 1000);
      samples.push(...system.sample(t));
      if (SHOW_PROGRESS) {
        const last = events.at(-1);
        process.stderr.write(
          `\r${t}/${SECONDS} s  requests ${load.sent}  errors ${load.failed}  writes ${writer.adds.ok + writer.deletes.ok} ok / ` +
            `${writer.adds.failed + writer.deletes.failed} failed  ${last ? `last event: ${last.action}${last.backAfterS === undefined ? ' ...' : ''}` : ''}\x1b[K`,
        );
      }
    }
    stopped = true;
    load.stop();
    writer.stop();
    await loadDone;
    // The load's own time: the writer and a restart under way may still take a while to finish.
    const elapsed = (performance.now() - started) / 1000;
    await Promise.all([writerDone, chaosDone]);
    if (SHOW_PROGRESS) process.stderr.write('\n');
    say('soak: checking the index');
    const consistency = await checkIndex(index, writer);

    const rows: BenchRow[] = KINDS.map((kind) => {
      const s = load.stats.get(kind.name)!;
      const { p50, p99 } = latencySummary(s.latencies);
      return {
        requests: kind.name,
        expected: kind.expected.join('/'),
        sent: s.sent,
        answered: s.ok,
        errors: [...s.errors].map(([k, n]) => `${k}: ${n}`).join(', ') || '-',
        'p50 ms': Math.round(p50),
        'p99 ms': Math.round(p99),
      };
    });
    const all = [...load.stats.values()].flatMap((s) => s.latencies);
    const overall = latencySummary(all);
    const errorTotals = new Map<string, number>();
    for (const s of load.stats.values()) for (const [k, n] of s.errors) errorTotals.set(k, (errorTotals.get(k) ?? 0) + n);
    rows.push({
      requests: 'all',
      expected: '',
      sent: load.sent,
      answered: load.sent - load.failed,
      errors: [...errorTotals].map(([k, n]) => `${k}: ${n}`).join(', ') || '-',
      'p50 ms': Math.round(overall.p50),
      'p99 ms': Math.round(overall.p99),
    });

    // Per replica and process: RSS and descriptors first seen, highest and last, so growth within a process shows.
    const processes: BenchRow[] = [];
    for (const pid of [...new Set(samples.map((s) => s.pid))]) {
      const mine = samples.filter((s) => s.pid === pid);
      if (mine.length === 0) continue;
      processes.push({
        replica: mine[0].replica,
        pid,
        'seconds sampled': mine.length,
        'RSS MB first/max/last': `${mine[0].rssMb.toFixed(0)}/${Math.max(...mine.map((s) => s.rssMb)).toFixed(0)}/${mine.at(-1)!.rssMb.toFixed(0)}`,
        'fds first/max/last': `${mine[0].fds}/${Math.max(...mine.map((s) => s.fds))}/${mine.at(-1)!.fds}`,
      });
    }

    const result = {
      seconds: elapsed,
      clients: CLIENTS,
      requestsPerSecond: load.sent / elapsed,
      served: load.sent - load.failed,
      failed: load.failed,
      errors: Object.fromEntries(errorTotals),
      errorSamples: Object.fromEntries([...load.stats].map(([kind, s]) => [kind, Object.fromEntries(s.samples)]).filter(([, m]) => Object.keys(m).length > 0)),
      latencyMs: overall,
      writes: { adds: writer.adds, deletes: writer.deletes, failures: writer.failures.slice(0, 20) },
      consistency: { ...consistency, lost: consistency.lost.slice(0, 50), resurrected: consistency.resurrected.slice(0, 50), duplicated: consistency.duplicated.slice(0, 50) },
      events,
      processes,
      samples,
      setup:
        'two `rankwise serve` replicas (--threads 1, a 2-layer 64-wide fixture cross-encoder, --index over one LanceDB folder, ' +
        '--cache on one Redis) behind nginx (round robin, proxy_next_upstream error timeout http_503 non_idempotent), a text-only index written ' +
        'by `rankwise index add`/`delete` in a loop; load generator, writer, replicas, Redis and nginx share this machine',
    };
    const path = await writeResult('soak', rows, result);
    if (QUIET) {
      process.stdout.write(`${JSON.stringify(JSON.parse(readFileSync(path, 'utf8')))}\n`);
    } else {
      const show = (data: BenchRow[]) => {
        const headers = Object.keys(data[0] ?? {});
        return table(headers, data.map((r) => headers.map((h) => r[h])));
      };
      process.stdout.write(
        `\n${CLIENTS} clients for ${elapsed.toFixed(0)} s: ${load.sent} requests (${(load.sent / elapsed).toFixed(1)}/s), ` +
          `${load.failed} not answered as expected; p50 ${overall.p50.toFixed(0)} ms, p99 ${overall.p99.toFixed(0)} ms\n\n${show(rows)}\n\n${show(processes)}\n\n` +
          `chaos: ${events.map((e) => `${e.atS.toFixed(0)} s ${e.action}${e.error ? ` (failed: ${e.error})` : ` (back in ${e.backAfterS?.toFixed(1)} s)`}`).join('; ')}\n` +
          `writes: ${writer.adds.ok} adds and ${writer.deletes.ok} deletes acknowledged, ${writer.adds.failed + writer.deletes.failed} failed\n` +
          `index: ${consistency.live} live ids, ${consistency.lost.length} lost, ${consistency.resurrected.length} deleted but found, ` +
          `${consistency.duplicated.length} duplicated; stats count ${consistency.statsCount} (expected ${consistency.expectedCount}` +
          `${consistency.uncertain ? ` to ${consistency.expectedCount + consistency.uncertain}` : ''}): ${consistency.ok ? 'consistent' : 'INCONSISTENT'}\n` +
          `wrote ${path}\n`,
      );
    }
    if (!consistency.ok) process.exitCode = 1;
  } finally {
    await system.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
