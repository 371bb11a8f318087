/**
 * Throughput of the ONNX graphs written by buildBertOnnx on a MiniLM-L6-H384 shaped model (random weights: speed
 * does not depend on their values), batch 32 x 128 tokens, 2 intra-op threads, graph optimisation 'all'.
 *
 *   GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node --import tsx bench/onnx-graph-speed.ts [--seconds 10] [--variants]
 */
import * as ort from 'onnxruntime-node';
import type { BertConfig } from '../src/models/config.js';
import { initBertWeights } from '../src/models/init-weights.js';
import { buildBertOnnx } from '../src/models/bert/graph.js';
import type { BertGraphTuning, OnnxDtype } from '../src/models/bert/graph.js';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1]) || 10;
const threads = Number(args[args.indexOf('--threads') + 1]) || 2;
const BATCH = 32;
const SEQ = 128;

const config: BertConfig = {
  model_type: 'bert', architectures: ['BertForSequenceClassification'], vocab_size: 30522, hidden_size: 384,
  num_hidden_layers: 6, num_attention_heads: 12, intermediate_size: 1536, max_position_embeddings: 512,
  type_vocab_size: 2, layer_norm_eps: 1e-12, hidden_act: 'gelu', num_labels: 1,
};
const H = config.hidden_size;
const linearParams = config.num_hidden_layers * (4 * H * H + 2 * H * config.intermediate_size);
const flopsPerSeq = 2 * linearParams * SEQ + config.num_hidden_layers * 4 * SEQ * SEQ * H;

const weights = initBertWeights(config, 'sequence-classification', 1);
const ids = new BigInt64Array(BATCH * SEQ);
const mask = new BigInt64Array(BATCH * SEQ);
const types = new BigInt64Array(BATCH * SEQ);
for (let i = 0; i < ids.length; i++) {
  ids[i] = BigInt(1000 + ((i * 7919) % 29000));
  mask[i] = 1n;
  types[i] = (i % SEQ) > SEQ / 2 ? 1n : 0n;
}
const feeds = {
  input_ids: new ort.Tensor('int64', ids, [BATCH, SEQ]),
  attention_mask: new ort.Tensor('int64', mask, [BATCH, SEQ]),
  token_type_ids: new ort.Tensor('int64', types, [BATCH, SEQ]),
};

interface Variant { label: string; dtype: OnnxDtype; tuning: BertGraphTuning; }

// The machine is shared, so whole-run averages swing with other people's jobs. Variants are interleaved in rounds
// and the report uses the fastest batch (closest to an uncontended machine) next to the median.
async function measureAll(variants: Variant[]): Promise<Map<string, number>> {
  const sessions = [];
  for (const v of variants) {
    const bytes = buildBertOnnx(config, weights, { head: 'sequence-classification', dtype: v.dtype }, v.tuning);
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
    });
    await session.run(feeds);
    sessions.push({ v, session, size: bytes.length, times: [] as number[] });
  }
  const start = performance.now();
  while (performance.now() - start < seconds * 1000 * variants.length) {
    for (const s of sessions) {
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        await s.session.run(feeds);
        s.times.push((performance.now() - t0) / 1000);
      }
    }
  }
  const best = new Map<string, number>();
  for (const s of sessions) {
    await s.session.release();
    const sorted = [...s.times].sort((a, b) => a - b);
    const fastest = sorted[0];
    const median = sorted[Math.floor(sorted.length / 2)];
    const seqPerS = BATCH / fastest;
    best.set(s.v.label, seqPerS);
    console.log(
      `${s.v.label.padEnd(18)} ${(s.size / 1e6).toFixed(1).padStart(6)} MB  best ${seqPerS.toFixed(1).padStart(6)} seq/s ` +
        `${((seqPerS * flopsPerSeq) / 1e9).toFixed(0).padStart(4)} GFLOP/s   median ${(BATCH / median).toFixed(1).padStart(6)} seq/s ` +
        `${((BATCH / median * flopsPerSeq) / 1e9).toFixed(0).padStart(4)} GFLOP/s   (${s.times.length} batches)`,
    );
  }
  return best;
}

console.log(`MiniLM-L6-H384 shape, batch ${BATCH} x seq ${SEQ}, ${threads} threads, ${(flopsPerSeq / 1e9).toFixed(2)} GFLOP/seq, GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? '(unset)'}`);
const variants: Variant[] = [
  { label: 'fp32', dtype: 'fp32', tuning: {} },
  { label: 'int8', dtype: 'int8', tuning: {} },
];
if (args.includes('--variants')) {
  variants.push({ label: 'fp32 mha', dtype: 'fp32', tuning: { fp32Attention: 'mha' } });
  variants.push({ label: 'fp32 skip-ln', dtype: 'fp32', tuning: { residualNorm: 'skip' } });
  variants.push({ label: 'int8 dqmm+mha', dtype: 'int8', tuning: { int8Attention: 'mha' } });
  variants.push({ label: 'int8 skip-ln', dtype: 'int8', tuning: { residualNorm: 'skip' } });
}
const best = await measureAll(variants);
console.log(`int8 / fp32 (best batch) = ${(best.get('int8')! / best.get('fp32')!).toFixed(2)}x`);
