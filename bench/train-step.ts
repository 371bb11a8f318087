/**
 * Time of one training step of the libtorch engine on the MiniLM-L6-H384 shape (6 layers, 12 heads, vocab 30522),
 * batch 16 x 128 tokens, BCE, AdamW with clipping, dropout on. Run with the BLAS settings measured fastest here:
 *
 *   OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=2 GLIBC_TUNABLES=glibc.malloc.hugetlb=1 \
 *     node --import tsx bench/train-step.ts
 *
 * BENCH_THREADS (default 2), BENCH_STEPS (default 8), BENCH_LOSS (bce | mnrl) override the defaults.
 */
import { fixtureConfig, MINILM_L6_SHAPE } from '../src/models/fixture.js';
import { initBertWeights } from '../src/models/init-weights.js';
import { SeededRandom } from '../src/models/random.js';
import type { PaddedBatch } from '../src/models/tokenizer.js';
import { engineInfo, TorchBert, type TrainRequest } from '../src/train/engine.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const STEPS = Number(process.env.BENCH_STEPS ?? 8);
const LOSS = process.env.BENCH_LOSS ?? 'bce';
const B = 16;
const T = 128;

const cross = LOSS === 'bce';
const config = fixtureConfig({ kind: cross ? 'cross-encoder' : 'bi-encoder', ...MINILM_L6_SHAPE });
const head = cross ? 'sequence-classification' : 'none';
const rng = new SeededRandom(1);
const makeBatch = (): PaddedBatch => ({
  batchSize: B,
  sequenceLength: T,
  inputIds: BigInt64Array.from({ length: B * T }, () => BigInt(1000 + rng.int(config.vocab_size - 1000))),
  tokenTypeIds: BigInt64Array.from({ length: B * T }, (_, i) => (cross && i % T >= T / 4 ? 1n : 0n)),
  attentionMask: new BigInt64Array(B * T).fill(1n),
});
const request: TrainRequest = cross
  ? { loss: 'bce', batch: makeBatch(), labels: Float32Array.from({ length: B }, (_, i) => i % 2) }
  : { loss: 'mnrl', anchors: makeBatch(), positives: makeBatch(), scale: 20 };

const model = TorchBert.create({ config, head, weights: initBertWeights(config, head, 1), seed: 1, threads: THREADS });
model.configureOptimizer({ lr: 2e-5, weightDecay: 0.01, warmupSteps: 1, totalSteps: STEPS + 2, maxGradNorm: 1 });
const info = engineInfo();
process.stdout.write(`libtorch ${info.torchVersion}, ${THREADS} threads, ${info.blas ?? 'unknown BLAS'}\n`);
process.stdout.write(`OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? ''} GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? ''}\n`);

// The first step allocates the optimizer moments and warms the allocator; it is reported but not counted.
let start = performance.now();
await model.trainStep(request);
process.stdout.write(`warm-up step: ${(performance.now() - start).toFixed(0)} ms\n`);
const times: number[] = [];
for (let i = 0; i < STEPS; i++) {
  start = performance.now();
  const r = await model.trainStep(request);
  times.push(performance.now() - start);
  process.stdout.write(`step ${r.step}: ${times[i].toFixed(0)} ms  loss ${r.loss.toFixed(4)}  |g| ${r.gradNorm.toFixed(3)}\n`);
}
model.dispose();
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
process.stdout.write(`${LOSS}, batch ${B} x ${T}: median ${(median / 1000).toFixed(3)} s/step, best ${(sorted[0] / 1000).toFixed(3)} s\n`);
