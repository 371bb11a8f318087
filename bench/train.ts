/**
 * One training step (BCE, AdamW, linear schedule, clipping, dropout) of the MiniLM-L6-H384 shape, batch 16 x 128
 * tokens, 2 threads: rankwise's libtorch engine against the same model written in Debian's python3-torch, measured
 * in one run with the same BLAS settings. Run: `npm run bench:train` (the reference needs
 * `apt-get install python3-torch`; without it only rankwise is measured).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixtureConfig, MINILM_L6_SHAPE } from '../src/models/fixture.js';
import { initBertWeights } from '../src/models/init-weights.js';
import { SeededRandom } from '../src/models/random.js';
import type { PaddedBatch } from '../src/models/tokenizer/index.js';
import { engineInfo, TorchBert } from '../src/train/engine.js';
import { report } from './report.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const STEPS = Number(process.env.BENCH_STEPS ?? 6);
const B = 16;
const T = 128;
const PYTHON = '/usr/bin/python3';

const config = fixtureConfig({ kind: 'cross-encoder', ...MINILM_L6_SHAPE });
const rng = new SeededRandom(1);
const batch: PaddedBatch = {
  batchSize: B,
  sequenceLength: T,
  inputIds: BigInt64Array.from({ length: B * T }, () => BigInt(1000 + rng.int(config.vocab_size - 1000))),
  tokenTypeIds: BigInt64Array.from({ length: B * T }, (_, i) => (i % T < T / 4 ? 0n : 1n)),
  attentionMask: new BigInt64Array(B * T).fill(1n),
};
const labels = Float32Array.from({ length: B }, (_, i) => i % 2);

const engine = TorchBert.create({ config, head: 'sequence-classification', weights: initBertWeights(config, 'sequence-classification', 1), seed: 1, threads: THREADS });
engine.configureOptimizer({ lr: 2e-5, weightDecay: 0.01, warmupSteps: 1, totalSteps: STEPS + 2, maxGradNorm: 1 });
const times: number[] = [];
for (let step = 0; step < STEPS + 2; step++) {
  const start = performance.now();
  await engine.trainStep({ loss: 'bce', batch, labels });
  if (step >= 2) times.push((performance.now() - start) / 1000);
}
engine.dispose();
times.sort((a, b) => a - b);
const ours = times[Math.floor(times.length / 2)];

const rows: Array<Record<string, string | number>> = [
  { system: `rankwise (libtorch ${engineInfo().torchVersion}, N-API)`, 's/step': ours, 'examples/s': B / ours, 'x PyTorch': NaN },
];
let reference: { torch: string; median_s: number } | undefined;
if (existsSync(PYTHON)) {
  try {
    const args = { threads: THREADS, steps: STEPS, batch: B, seq: T, layers: 6, hidden: 384, heads: 12, intermediate: 1536, vocab: config.vocab_size };
    const { stdout } = await promisify(execFile)(PYTHON, [join(import.meta.dirname, 'train_torch.py'), JSON.stringify(args)], { maxBuffer: 1 << 20 });
    reference = JSON.parse(stdout.trim().split('\n').at(-1)!);
  } catch (error) {
    process.stderr.write(`PyTorch reference skipped: ${(error as Error).message.split('\n')[0]}\n`);
  }
}
if (reference) {
  rows.push({ system: `PyTorch ${reference.torch} (python3-torch)`, 's/step': reference.median_s, 'examples/s': B / reference.median_s, 'x PyTorch': 1 });
  rows[0]['x PyTorch'] = ours / reference.median_s;
}
process.stdout.write(
  `\nTraining step, MiniLM-L6-H384 cross-encoder, batch ${B} x ${T} tokens, ${THREADS} threads, median of ${STEPS} steps after 2 warm-up steps ` +
    `(OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? 'unset'})\n\n`,
);
await report('train', rows, { ratioToPyTorch: reference ? ours / reference.median_s : null });
