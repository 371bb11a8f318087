/**
 * Late interaction speed, in one run:
 *  1. query latency on the 60-document corpus: late interaction (USE Lite token vectors, documents pre-encoded)
 *     against the cross-encoder (DEFAULT_RERANKER), which must score all 60 pairs per query;
 *  2. MaxSim scoring rate (document tokens per second) on indexes of 1M synthetic unit-vector tokens, dim 512
 *     (USE Lite) and 128 (ColBERT), for the fused JS kernel and onnxruntime's Gemm, against the rate memory
 *     bandwidth allows (bandwidth measured here, by a streaming read of a large buffer);
 *  3. the PLAID-style candidate step (seeded k-means centroids, inverted lists) on the same index: time, documents
 *     scored, and recall of the exhaustive top 10.
 * Run: `npm run bench:late-interaction` (BENCH_TOKENS to change the index size).
 */
import { storageError } from '../src/eval/compact-storage-error.js';
import { collectServiceTimes } from '../src/eval/latency.js';
import { SeededRandom } from '../src/models/random.js';
import {
  centroidInteractionScores,
  invertedLists,
  largest,
  nearestCentroids,
  probedCentroids,
  queryCentroidSimilarities,
  trainCentroids,
} from '../src/rank/late-interaction/centroids.js';
import { createDotEngine, type DotEngine } from '../src/rank/late-interaction/dot-engine.js';
import { loadLateInteractionEncoder } from '../src/rank/late-interaction/encoder.js';
import { maxSimScores, maxSimScoresWith, MaxSimScorer, type TokenBlock, type TokenMatrix } from '../src/rank/late-interaction/maxsim.js';
import { LateInteractionRanker } from '../src/rank/late-interaction/ranker.js';
import { DEFAULT_RERANKER, loadRanker } from '../src/rank/load-ranker.js';
import { readJsonLines } from '../src/util/jsonl.js';
import { percentile, report, type BenchRow } from './report.js';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 1_000_000);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const DOC_TOKENS = 32;
const rows: BenchRow[] = [];
const extra: Record<string, unknown> = {};
const started = performance.now();
const log = (text: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)}s] ${text}\n`);

function row(part: string, system: string, values: Partial<Record<'p50 ms' | 'p95 ms' | 'Mtok/s' | 'bound Mtok/s' | 'achieved/bound', number>>, note = ''): void {
  rows.push({
    part,
    system,
    'p50 ms': values['p50 ms'] ?? NaN,
    'p95 ms': values['p95 ms'] ?? NaN,
    'Mtok/s': values['Mtok/s'] ?? NaN,
    'bound Mtok/s': values['bound Mtok/s'] ?? NaN,
    'achieved/bound': values['achieved/bound'] ?? NaN,
    note,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Query latency on the corpus

const dataset = new URL('../datasets/late-interaction/', import.meta.url).pathname;
const documents = (await readJsonLines(`${dataset}documents.jsonl`, 'documents')).map((l) => l.value.text as string);
const queries = (await readJsonLines(`${dataset}queries.jsonl`, 'queries')).map((l) => l.value.query as string);
/** Late interaction is cheap to sample; the cross-encoder scores 60 pairs per request, so fewer of its samples fit in the budget. */
const SAMPLES = 40;
const CROSS_SAMPLES = Number(process.env.BENCH_CROSS_SAMPLES ?? 20);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

for (const kernel of ['auto', 'js'] as const) {
  const late = new LateInteractionRanker(await loadLateInteractionEncoder('use-lite', { threads: THREADS }), { kernel });
  const indexMs = await late.indexDocuments(documents);
  const times = sorted(await collectServiceTimes((i) => late.rank(queries[i % queries.length], documents), { samples: SAMPLES }));
  row('corpus query', `${late.name} (${kernel} kernel)`, { 'p50 ms': percentile(times, 50), 'p95 ms': percentile(times, 95) }, `index 60 docs once: ${indexMs.toFixed(0)} ms`);
  if (kernel === 'auto') {
    const storage = await storageError(late.encoder, queries, documents);
    extra.storage = storage;
    for (const s of storage) {
      row('storage', `${s.encoding} (${s.bytesPerToken} B/token vs ${late.encoder.dimension * 4})`, {}, `avg tau ${s.average.tau.toFixed(4)}, top-5 ${(s.average.top5 * 100).toFixed(0)}%`);
    }
  }
  await late.dispose();
  log(`late interaction (${kernel}) done`);
}
{
  const cross = await loadRanker(DEFAULT_RERANKER, { threads: THREADS });
  const times = sorted(await collectServiceTimes((i) => cross.rank(queries[i % queries.length], documents), { samples: CROSS_SAMPLES }));
  row('corpus query', `cross-encoder ${cross.name}`, { 'p50 ms': percentile(times, 50), 'p95 ms': percentile(times, 95) }, '60 pairs per query');
  await cross.dispose?.();
  log('cross-encoder done');
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Memory bandwidth and MaxSim rate

/** Streaming read bandwidth, bytes/s: memcmp of two equal 256 MiB buffers reads 512 MiB (best of 5). */
function readBandwidth(): number {
  const size = 256 << 20;
  const a = Buffer.alloc(size, 7);
  const b = Buffer.alloc(size, 7);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    if (a.compare(b) !== 0) throw new Error('buffers differ');
    best = Math.min(best, performance.now() - t);
  }
  return (2 * size) / (best / 1000);
}
const bandwidth = readBandwidth();
extra.read_bandwidth_gb_s = bandwidth / 1e9;
row('bandwidth', 'streaming read (memcmp, 2 x 256 MiB)', {}, `${(bandwidth / 1e9).toFixed(1)} GB/s`);
log(`bandwidth ${(bandwidth / 1e9).toFixed(1)} GB/s`);

/** Clustered synthetic index: documents of DOC_TOKENS tokens, each drawn around one of `topics` centres. */
function syntheticIndex(dim: number, tokens: number, topics: number, seed: number): { block: TokenBlock; centres: Float32Array; topicOf: Int32Array } {
  const rng = new SeededRandom(seed);
  const centres = new Float32Array(topics * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal();
  const docs = Math.floor(tokens / DOC_TOKENS);
  const starts = new Int32Array(docs + 1);
  const vectors = new Float32Array(docs * DOC_TOKENS * dim);
  const topicOf = new Int32Array(docs);
  for (let d = 0; d < docs; d++) {
    starts[d + 1] = starts[d] + DOC_TOKENS;
    topicOf[d] = rng.int(topics);
    const c = topicOf[d] * dim;
    for (let t = starts[d]; t < starts[d + 1]; t++) {
      let n = 0;
      for (let k = 0; k < dim; k++) {
        // Uniform noise keeps generation cheap; 2x the centre's spread keeps topics overlapping.
        const v = centres[c + k] + 4 * (rng.next() - 0.5);
        vectors[t * dim + k] = v;
        n += v * v;
      }
      n = 1 / Math.sqrt(n);
      for (let k = 0; k < dim; k++) vectors[t * dim + k] *= n;
    }
  }
  return { block: { vectors, starts, dimension: dim }, centres, topicOf };
}

function syntheticQuery(centres: Float32Array, topic: number, count: number, dim: number, rng: SeededRandom): TokenMatrix {
  const vectors = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    let n = 0;
    for (let k = 0; k < dim; k++) {
      const v = centres[topic * dim + k] + 4 * (rng.next() - 0.5);
      vectors[i * dim + k] = v;
      n += v * v;
    }
    for (let k = 0; k < dim; k++) vectors[i * dim + k] /= Math.sqrt(n);
  }
  return { vectors, count, dimension: dim };
}

function topIds(scores: Float32Array, ids: ArrayLike<number>, k: number): number[] {
  return Array.from(scores.keys())
    .sort((a, b) => scores[b] - scores[a])
    .slice(0, k)
    .map((i) => ids[i]);
}

const onnx: DotEngine = await createDotEngine('onnx', THREADS);
const maxsim: Record<string, unknown> = {};
// The candidate step runs on the ColBERT shape, where PLAID is used: assigning 1M 512-d tokens to centroids costs
// 4x as much and adds nothing the 128-d run does not show.
for (const { dim, queryTokens, label, candidates } of [
  { dim: 512, queryTokens: 16, label: 'USE Lite shape', candidates: false },
  { dim: 128, queryTokens: 32, label: 'ColBERT shape', candidates: true },
]) {
  const { block, centres, topicOf } = syntheticIndex(dim, TOKENS, 1024, dim);
  const tokens = block.starts[block.starts.length - 1];
  const docs = block.starts.length - 1;
  log(`built ${tokens} x ${dim} synthetic tokens`);
  const rng = new SeededRandom(99);
  const query = syntheticQuery(centres, topicOf[0], queryTokens, dim, rng);
  const bound = bandwidth / (dim * 4);
  const measure = async (name: string, run: () => Promise<unknown> | unknown, runs: number) => {
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    const best = Math.min(...times);
    const rate = tokens / (best / 1000);
    row(`maxsim ${dim}-d`, `${name}, ${queryTokens} query tokens`, { 'p50 ms': percentile(sorted(times), 50), 'Mtok/s': rate / 1e6, 'bound Mtok/s': bound / 1e6, 'achieved/bound': rate / bound }, `${(tokens / 1e6).toFixed(2)}M tokens, ${label}`);
    log(`maxsim ${dim} ${name}: ${(rate / 1e6).toFixed(2)} Mtok/s`);
    return { best_ms: best, tokens_per_s: rate, bound_tokens_per_s: bound };
  };
  const exhaustiveJs = await measure('js fused 4x4 kernel', () => maxSimScores(query, block), 1);
  const exhaustiveOnnx = await measure('onnxruntime Gemm', () => maxSimScoresWith(onnx, query, block), 3);

  maxsim[`${dim}`] = { tokens, documents: docs, query_tokens: queryTokens, js: exhaustiveJs, onnx: exhaustiveOnnx };
  if (!candidates) continue;

  // 3. Candidate step: centroids trained on a sample, every token assigned, inverted lists, probe, exact MaxSim.
  const centroidCount = 256;
  const PROBE = 2;
  const KEEPS = [256, 2048];
  const scorer = new MaxSimScorer('auto', THREADS);
  let t = performance.now();
  const centroids = await trainCentroids(onnx, block.vectors, tokens, dim, { count: centroidCount, seed: 1, iterations: 6, sample: 64 * centroidCount });
  const codes = await nearestCentroids(onnx, block.vectors, tokens, centroids, centroidCount, dim);
  const lists = invertedLists(codes, block.starts, centroidCount);
  const buildMs = performance.now() - t;
  log(`centroids for ${dim}-d built in ${(buildMs / 1000).toFixed(1)} s`);
  // The exhaustive top 10 of each query, the reference for recall.
  const testQueries = Array.from({ length: 10 }, (_, qi) => syntheticQuery(centres, topicOf[qi * 97], queryTokens, dim, rng));
  const exactTop: number[][] = [];
  for (const q of testQueries) exactTop.push(topIds(await maxSimScoresWith(onnx, q, block), Array.from({ length: docs }, (_, i) => i), 10));
  const runs: Record<string, unknown>[] = [];
  for (const keep of KEEPS) {
    const recalls: number[] = [];
    const scoredCounts: number[] = [];
    const probedCounts: number[] = [];
    const candidateTimes: number[] = [];
    for (const [qi, q] of testQueries.entries()) {
      t = performance.now();
      const sims = await queryCentroidSimilarities(onnx, q.vectors, q.count, centroids, centroidCount, dim);
      const probed = probedCentroids(sims, q.count, centroidCount, PROBE);
      const seen = new Uint8Array(docs);
      for (const c of probed) for (const d of lists[c]) seen[d] = 1;
      const probedDocs: number[] = [];
      for (let d = 0; d < docs; d++) if (seen[d]) probedDocs.push(d);
      // PLAID's second stage: centroid interaction picks the `keep` most promising probed documents for exact MaxSim.
      const approx = centroidInteractionScores(sims, q.count, centroidCount, codes, block.starts, probedDocs);
      const candidates = largest(approx, keep).map((i) => probedDocs[i]);
      const scores = await scorer.score(q, block, candidates);
      const found = topIds(scores, candidates, 10);
      candidateTimes.push(performance.now() - t);
      scoredCounts.push(candidates.length);
      probedCounts.push(probedDocs.length);
      recalls.push(found.filter((d) => exactTop[qi].includes(d)).length / 10);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const candidateP50 = percentile(sorted(candidateTimes), 50);
    row(
      `maxsim ${dim}-d`,
      `candidates (${centroidCount} centroids, probe ${PROBE}, keep ${keep}) + exact`,
      { 'p50 ms': candidateP50, 'Mtok/s': tokens / (candidateP50 / 1000) / 1e6 },
      `probes ${((mean(probedCounts) / docs) * 100).toFixed(1)}%, scores ${((mean(scoredCounts) / docs) * 100).toFixed(2)}% of docs exactly, recall@10 ${(mean(recalls) * 100).toFixed(0)}%`,
    );
    runs.push({ keep, p50_ms: candidateP50, mean_documents_probed: mean(probedCounts), mean_documents_scored: mean(scoredCounts), recall_at_10: mean(recalls) });
  }
  await scorer.dispose();
  maxsim[`${dim}`] = { ...(maxsim[`${dim}`] as object), candidates: { centroids: centroidCount, probe: PROBE, build_ms: buildMs, runs } };
  row(`maxsim ${dim}-d`, `centroid build (${centroidCount}, seeded k-means + assignment)`, { 'p50 ms': buildMs }, 'one-time, at index time');
}
extra.maxsim = maxsim;
await onnx.dispose();
extra.total_seconds = (performance.now() - started) / 1000;
await report('late-interaction', rows, extra);
