/**
 * Semantic cache lookup latency at 1k, 10k and 100k cached queries: the two-step lookup (HNSW nearest few, then
 * verify + guard) against the article's scan (verifier over every cached query), in one run on one growing cache.
 * Run: `npm run bench:cache`. Env: BENCH_CACHE_SIZES (default 1000,10000,100000), BENCH_CACHE_POOL (real sentences
 * encoded, default 10000), BENCH_CACHE_LOOKUPS (default 100), BENCH_THREADS (encoder threads, default 2).
 *
 * Cached queries: a pool of synthetic support questions built from templates with SeededRandom and encoded by the
 * real USE Lite encoder; beyond the pool, entries are seeded perturbations of pool vectors (noise, renormalised),
 * because encoding 100k sentences here would take minutes. Lookups encode their query for real, end to end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SemanticCache, type LookupStrategy } from '../src/cache/semantic-cache.js';
import { SqliteCacheStore } from '../src/cache/sqlite-store.js';
import { DEFAULT_ENCODER, loadSentenceEncoder } from '../src/models/load-encoder.js';
import { SeededRandom } from '../src/models/random.js';
import { l2normalize } from '../src/models/vectors.js';
import { CrossEncoderVerifier } from '../src/cache/verifier.js';
import { benchCrossEncoder, percentile, report, timeRuns, type BenchRow } from './report.js';

const SIZES = (process.env.BENCH_CACHE_SIZES ?? '1000,10000,100000').split(',').map(Number);
const POOL = Number(process.env.BENCH_CACHE_POOL ?? 10_000);
const LOOKUPS = Number(process.env.BENCH_CACHE_LOOKUPS ?? 100);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
/** Per-dimension noise of a perturbed copy: cosine to its source about 0.9, like a close paraphrase. */
const NOISE = 0.02;

const OPENERS = ['How do I', 'How can I', 'Is there a way to', "What's the best way to", 'Where do I go to', 'Can I', 'I need to', 'Help me'];
const VERBS = ['reset', 'change', 'export', 'delete', 'update', 'share', 'download', 'rename', 'archive', 'restore', 'move', 'copy', 'print', 'merge', 'sync', 'lock', 'verify', 'schedule', 'cancel', 'book', 'track', 'pay', 'split', 'upgrade', 'configure', 'translate', 'review', 'approve', 'tag', 'filter'];
const OBJECTS = ['my password', 'the invoice', 'my profile picture', 'our team calendar', 'a shared folder', 'the monthly report', 'my billing address', 'the project board', 'a customer ticket', 'my phone number', 'the workspace logo', 'a recurring payment', 'my order', 'the API key', 'a saved search', 'the contract', 'my subscription', 'a meeting room', 'the printer queue', 'my email signature', 'the dashboard', 'a user group', 'the audit log', 'my timesheet', 'the expense claim', 'a product listing', 'the delivery slot', 'my notification settings', 'the wiki page', 'a draft post'];
const CONTEXTS = ['', ' on the mobile app', ' from the web dashboard', ' for my whole team', ' before the end of the month', ' without losing data', ' as an admin', ' in bulk', ' after the trial ends', ' for a single user', ' on a shared account', ' during onboarding'];

interface Parts {
  opener: string;
  verb: string;
  object: string;
  context: string;
}

function parts(random: SeededRandom): Parts {
  const pick = (items: readonly string[]) => items[random.int(items.length)];
  return { opener: pick(OPENERS), verb: pick(VERBS), object: pick(OBJECTS), context: pick(CONTEXTS) };
}

const text = (p: Parts) => `${p.opener} ${p.verb} ${p.object}${p.context}?`;

/** Distinct sentences; `used` is shared so that no lookup repeats a text (a repeat would skip the encoder). */
function uniqueSentences(count: number, random: SeededRandom, used: Set<string>, make: () => Parts = () => parts(random)): Parts[] {
  const out: Parts[] = [];
  while (out.length < count) {
    const p = make();
    if (used.has(text(p))) continue;
    used.add(text(p));
    out.push(p);
  }
  return out;
}

function perturb(vector: Float32Array, random: SeededRandom): Float32Array {
  const noisy = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) noisy[i] = vector[i] + random.normal(0, NOISE);
  return l2normalize(noisy);
}

const random = new SeededRandom(5);
const encoder = await loadSentenceEncoder(DEFAULT_ENCODER, { threads: THREADS });
const poolSize = Math.min(POOL, Math.max(...SIZES));
const used = new Set<string>();
const poolParts = uniqueSentences(poolSize, random, used);
const poolTexts = poolParts.map(text);
let started = performance.now();
process.stdout.write(`encoding ${poolSize} pool sentences with ${encoder.name}...\n`);
const poolVectors = await encoder.encode(poolTexts, { batchSize: 64 });
const encodeSeconds = (performance.now() - started) / 1000;
process.stdout.write(`  ${encodeSeconds.toFixed(1)} s (${((encodeSeconds * 1000) / poolSize).toFixed(2)} ms a sentence)\n`);

/** Fresh lookups: half rephrase a cached pool sentence (another opener), half are new sentences from the templates. */
function lookupTexts(cachedPool: number): string[] {
  return uniqueSentences(LOOKUPS, random, used, () => {
    if (random.next() < 0.5) return parts(random);
    return { ...poolParts[random.int(cachedPool)], opener: OPENERS[random.int(OPENERS.length)] };
  }).map(text);
}

const dir = await mkdtemp(join(tmpdir(), 'rankwise-bench-cache-'));
const cache = await SemanticCache.open({ encoder, store: await SqliteCacheStore.open(join(dir, 'cache.db')), maxEntries: 10 * Math.max(...SIZES) });
const rows: BenchRow[] = [];
const buildSeconds: Record<string, number> = {};

async function grow(to: number): Promise<void> {
  started = performance.now();
  for (let from = cache.indexedEntries; from < to; ) {
    const count = Math.min(1000, to - from);
    await cache.storeMany(
      Array.from({ length: count }, (_, k) => {
        const i = from + k;
        const source = i % poolSize;
        // The pool itself first; after that, perturbed copies of pool vectors under unique keys.
        const vector = i < poolSize ? poolVectors[i] : perturb(poolVectors[source], random);
        return { query: i < poolSize ? poolTexts[i] : `${poolTexts[source]} #${i}`, value: { answer: i }, vector };
      }),
    );
    from += count;
    if (process.stdout.isTTY) process.stdout.write(`\r  stored ${from}/${to}`);
  }
  buildSeconds[to] = (performance.now() - started) / 1000;
  process.stdout.write(`${process.stdout.isTTY ? '\n' : ''}  ${to} entries stored and indexed in ${buildSeconds[to].toFixed(1)} s\n`);
}

async function measure(size: number, strategy: LookupStrategy, lookups: readonly string[]): Promise<void> {
  await cache.lookup(`${lookups[0]} (warm-up)`, { strategy });
  const total: number[] = [];
  const search: number[] = [];
  let hits = 0;
  for (const text of lookups) {
    const result = await cache.lookup(text, { strategy });
    total.push(result.timings.totalMs);
    search.push(result.timings.searchMs);
    if (result.hit) hits++;
  }
  total.sort((a, b) => a - b);
  search.sort((a, b) => a - b);
  rows.push({
    entries: size,
    strategy,
    lookups: lookups.length,
    hits,
    'p50 ms': percentile(total, 50),
    'p99 ms': percentile(total, 99),
    'search p50 ms': percentile(search, 50),
    'search p99 ms': percentile(search, 99),
  });
}

for (const size of SIZES) {
  await grow(size);
  const cachedPool = Math.min(size, poolSize);
  await measure(size, 'two-step', lookupTexts(cachedPool));
  // The scan at 100k costs ~100k dot products a lookup; fewer lookups keep the run short without changing p50.
  await measure(size, 'scan', lookupTexts(cachedPool).slice(0, size >= 100_000 ? 40 : LOOKUPS));
}
await cache.close();
await rm(dir, { recursive: true, force: true });

/**
 * The article's own scan ran a duplicate-question cross-encoder over every cached query. Running that at 100k
 * would take minutes a lookup, so it is extrapolated: the MiniLM-L6-H384-shaped cross-encoder the benchmarks share
 * scores a batch of (query, cached query) pairs, and a scan costs that per pair times the entries.
 */
const crossEncoder = await CrossEncoderVerifier.load(await benchCrossEncoder(), { threads: THREADS });
const [probe] = lookupTexts(poolSize);
const batch = poolTexts.slice(0, 64).map((t, i) => ({ text: t, vector: poolVectors[i] }));
await crossEncoder.score({ text: probe, vector: poolVectors[0] }, batch.slice(0, 8));
const pairTimes = await timeRuns(3, () => crossEncoder.score({ text: probe, vector: poolVectors[0] }, batch));
const msPerPair = percentile(pairTimes, 50) / batch.length;
await crossEncoder.dispose();
await encoder.dispose?.();
for (const size of SIZES) {
  rows.push({
    entries: size,
    strategy: 'scan, cross-encoder (extrapolated)',
    lookups: 0,
    hits: NaN,
    'p50 ms': msPerPair * size,
    'p99 ms': NaN,
    'search p50 ms': msPerPair * size,
    'search p99 ms': NaN,
  });
}

const row = (size: number, strategy: string) => rows.find((r) => r.entries === size && r.strategy === strategy)!;
const [smallest, largest] = [SIZES[0], SIZES[SIZES.length - 1]];
const summary = {
  two_step_p50_growth: (row(largest, 'two-step')['p50 ms'] as number) / (row(smallest, 'two-step')['p50 ms'] as number),
  two_step_search_p50_growth: (row(largest, 'two-step')['search p50 ms'] as number) / (row(smallest, 'two-step')['search p50 ms'] as number),
  scan_over_two_step_p50: (row(largest, 'scan')['p50 ms'] as number) / (row(largest, 'two-step')['p50 ms'] as number),
  scan_over_two_step_search_p50: (row(largest, 'scan')['search p50 ms'] as number) / (row(largest, 'two-step')['search p50 ms'] as number),
};
await report('cache', rows, {
  encoder: encoder.name,
  pool_sentences: poolSize,
  pool_encode_seconds: encodeSeconds,
  perturbation_noise: NOISE,
  build_seconds: buildSeconds,
  cross_encoder_ms_per_pair: msPerPair,
  note: `${poolSize} template sentences encoded with ${encoder.name}; entries beyond them are seeded perturbations of those vectors (per-dimension noise ${NOISE}, renormalised). Lookup times are end to end (encode + sync + search + verify + guard + store read); search is the index query (two-step) or the verifier over every entry (scan).`,
  ...summary,
});
process.stdout.write(
  `${poolSize} real sentences encoded; entries beyond them are perturbed copies of their vectors.\n` +
    `cross-encoder scan rows are extrapolated: ${msPerPair.toFixed(2)} ms a pair (MiniLM-L6-H384 shape, batch of ${batch.length}) x entries.\n` +
    `two-step p50 growth ${smallest} -> ${largest}: ${summary.two_step_p50_growth.toFixed(2)}x end to end, ${summary.two_step_search_p50_growth.toFixed(2)}x search only (target < 3x)\n` +
    `scan / two-step at ${largest}: ${summary.scan_over_two_step_p50.toFixed(1)}x end to end, ${summary.scan_over_two_step_search_p50.toFixed(1)}x search only (target >= 50x)\n`,
);
