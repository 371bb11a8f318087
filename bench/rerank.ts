/**
 * Reranking throughput: rankwise fp32 and int8 against the code a user would write with transformers.js on the same
 * ONNX file, measured in one run on the MiniLM-L6-H384-shaped fixture. Run: `npm run bench:rerank`.
 */
import { basename, dirname } from 'node:path';
import { AutoModelForSequenceClassification, AutoTokenizer, env } from '@huggingface/transformers';
import { MINILM_L6_SHAPE } from '../src/models/fixture.js';
import type { Encoded } from '../src/models/tokenizer/index.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { mixedLengthDocuments } from './corpus.js';
import { benchCrossEncoder, percentile, report, timeRuns } from './report.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** fp32 peak of the reference machine (2 Zen 5 cores, AVX-512); override for another CPU. */
const PEAK_GFLOPS = Number(process.env.RANKWISE_PEAK_GFLOPS ?? 435);
const MODEL_DIR = await benchCrossEncoder();
const QUERY = 'how do I find a cheap hotel room for one night in the city';

const documents = mixedLengthDocuments(100, 10, 300);
const pairs = documents.map((d) => [QUERY, d] as const);

interface Measured {
  system: string;
  times: number[];
  scores: Float32Array;
}

async function measureRankwise(dtype: 'fp32' | 'int8'): Promise<Measured> {
  const model = await CrossEncoder.load(MODEL_DIR, { dtype, threads: THREADS });
  let scores = await model.predict(pairs, { activation: 'none' });
  const times = await timeRuns(RUNS, async () => {
    scores = await model.predict(pairs, { activation: 'none' });
  });
  await model.dispose();
  return { system: `rankwise ${dtype}`, times, scores };
}

async function measureTransformersJs(): Promise<Measured> {
  env.allowRemoteModels = false;
  env.localModelPath = dirname(MODEL_DIR);
  const id = basename(MODEL_DIR);
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const model = await AutoModelForSequenceClassification.from_pretrained(id, {
    dtype: 'fp32',
    session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1 },
  });
  const run = async () => {
    const inputs = tokenizer(new Array(documents.length).fill(QUERY), { text_pair: documents, padding: true, truncation: true, max_length: 512 });
    const { logits } = await model(inputs);
    return Float32Array.from(logits.data as Float32Array);
  };
  let scores = await run();
  const times = await timeRuns(RUNS, async () => {
    scores = await run();
  });
  await model.dispose();
  return { system: 'transformers.js fp32 (one padded batch)', times, scores };
}

/** FLOPs of one BERT forward pass over `t` tokens: the linear layers plus the two attention products. */
function flopsPerSequence(t: number): number {
  const { layers, hidden: h, intermediate: i } = MINILM_L6_SHAPE;
  return layers * (t * (8 * h * h + 4 * h * i) + 4 * t * t * h);
}

async function fixedBatchThroughput(dtype: 'fp32' | 'int8'): Promise<{ seqPerSecond: number; gflops: number }> {
  const model = await CrossEncoder.load(MODEL_DIR, { dtype, threads: THREADS });
  const batch: Encoded[] = documents.slice(0, 32).map((_, i) => model.tokenizer.encodePair(QUERY, documents.slice(i, i + 4).join(" "), { maxLength: 128 }));
  if (batch.some((e) => e.inputIds.length !== 128)) throw new Error('expected 128-token sequences');
  await model.scoreEncoded(batch, { batchSize: 32 });
  const times = await timeRuns(RUNS, () => model.scoreEncoded(batch, { batchSize: 32 }));
  await model.dispose();
  const seqPerSecond = (32 * 1000) / percentile(times, 50);
  return { seqPerSecond, gflops: (seqPerSecond * flopsPerSequence(128)) / 1e9 };
}

const baseline = await measureTransformersJs();
const fp32 = await measureRankwise('fp32');
const int8 = await measureRankwise('int8');
const fixed32 = await fixedBatchThroughput('fp32');
const fixed8 = await fixedBatchThroughput('int8');

const maxDiff = Math.max(...Array.from(fp32.scores, (s, i) => Math.abs(s - baseline.scores[i])));
const pairsPerSecond = (m: Measured) => (documents.length * 1000) / percentile(m.times, 50);
const rows = [baseline, fp32, int8].map((m) => ({
  system: m.system,
  'pairs/s': pairsPerSecond(m),
  'p50 ms': percentile(m.times, 50),
  'max ms': m.times[m.times.length - 1],
  'x transformers.js': pairsPerSecond(m) / pairsPerSecond(baseline),
}));
process.stdout.write(
  `\nRerank 100 documents of 10-300 words, one query, MiniLM-L6-H384 shape, ${THREADS} threads, median of ${RUNS} runs after a warm-up\n\n`,
);
await report('rerank', rows, {
  int8OverFp32: pairsPerSecond(int8) / pairsPerSecond(fp32),
  maxAbsLogitDiffVsTransformersJs: maxDiff,
  fixedBatch128: {
    fp32: { ...fixed32, percentOfPeak: (100 * fixed32.gflops) / PEAK_GFLOPS },
    int8: { ...fixed8, percentOfPeak: (100 * fixed8.gflops) / PEAK_GFLOPS },
    peakGflops: PEAK_GFLOPS,
  },
});
process.stdout.write(
  [
    `int8 / fp32: ${(pairsPerSecond(int8) / pairsPerSecond(fp32)).toFixed(2)}x; ` +
      `rankwise fp32 logits vs transformers.js: max |diff| ${maxDiff.toExponential(2)}`,
    `Fixed batches of 32 x 128 tokens: fp32 ${fixed32.seqPerSecond.toFixed(1)} seq/s = ${fixed32.gflops.toFixed(0)} GFLOP/s ` +
      `(${((100 * fixed32.gflops) / PEAK_GFLOPS).toFixed(0)}% of a ${PEAK_GFLOPS} GFLOP/s fp32 peak); ` +
      `int8 ${fixed8.seqPerSecond.toFixed(1)} seq/s (${fixed8.gflops.toFixed(0)} GFLOP/s equivalent)`,
    '',
  ].join('\n'),
);
