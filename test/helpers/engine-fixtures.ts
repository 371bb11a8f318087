/** Shared pieces of the libtorch engine tests: tiny configs, seeded batches, onnxruntime runs, error measures. */
import * as ort from 'onnxruntime-node';
import type { BertConfig, ModelHead } from '../../src/models/config.js';
import { initBertWeights } from '../../src/models/init-weights.js';
import { SeededRandom } from '../../src/models/random.js';
import type { TensorMap } from '../../src/models/tensors.js';
import type { PaddedBatch } from '../../src/models/tokenizer/index.js';

export const CROSS: ModelHead = 'sequence-classification';
export const ENCODER: ModelHead = 'none';

/** A BERT small enough for finite differences; dropout settings as HF's defaults unless overridden. */
export function tinyConfig(head: ModelHead, over: Partial<BertConfig> = {}): BertConfig {
  return {
    model_type: 'bert',
    architectures: [head === CROSS ? 'BertForSequenceClassification' : 'BertModel'],
    vocab_size: 50,
    hidden_size: 8,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 16,
    max_position_embeddings: 16,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    pad_token_id: 0,
    ...(head === CROSS ? { num_labels: 1 } : {}),
    ...over,
  };
}

/**
 * std 0.1 rather than HF's 0.02 and random norms/biases: attention is far from uniform and a swapped tensor changes
 * the output, so parity and gradient checks cannot pass by accident.
 */
export function testWeights(config: BertConfig, head: ModelHead, seed = 7): TensorMap {
  return initBertWeights(config, head, seed, { std: 0.1, randomizeNormsAndBiases: true });
}

/** Right-padded batch of random real tokens (ids 1.., never the pad id 0), token types 0 then 1 as in a pair. */
export function randomBatch(seed: number, lengths: number[], vocab: number, T = Math.max(...lengths)): PaddedBatch {
  const rng = new SeededRandom(seed);
  const B = lengths.length;
  const inputIds = new BigInt64Array(B * T);
  const tokenTypeIds = new BigInt64Array(B * T);
  const attentionMask = new BigInt64Array(B * T);
  lengths.forEach((len, row) => {
    const split = Math.ceil(len / 2);
    for (let t = 0; t < len; t++) {
      inputIds[row * T + t] = BigInt(1 + rng.int(vocab - 1));
      tokenTypeIds[row * T + t] = t >= split ? 1n : 0n;
      attentionMask[row * T + t] = 1n;
    }
  });
  return { inputIds, tokenTypeIds, attentionMask, batchSize: B, sequenceLength: T };
}

/** Runs an ONNX model (file path or bytes) on a padded batch and returns its first output. */
export async function runOnnx(model: string | Uint8Array, batch: PaddedBatch): Promise<Float32Array> {
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 })
      : await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  try {
    const dims = [batch.batchSize, batch.sequenceLength];
    const out = await session.run({
      input_ids: new ort.Tensor('int64', batch.inputIds, dims),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, dims),
      token_type_ids: new ort.Tensor('int64', batch.tokenTypeIds, dims),
    });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** ||a - b|| / ||b||: the usual gradient-check measure, insensitive to which entries happen to be tiny. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i] - expected[i]) ** 2;
    norm += expected[i] ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-300);
}

/** Mean over real tokens of last_hidden_state [B, T, H], as sentence-transformers pools. */
export function meanPool(states: Float32Array, batch: PaddedBatch, hidden: number): Float64Array {
  const { batchSize: B, sequenceLength: T } = batch;
  const out = new Float64Array(B * hidden);
  for (let b = 0; b < B; b++) {
    let count = 0;
    for (let t = 0; t < T; t++) {
      if (batch.attentionMask[b * T + t] === 0n) continue;
      count++;
      for (let h = 0; h < hidden; h++) out[b * hidden + h] += states[(b * T + t) * hidden + h];
    }
    for (let h = 0; h < hidden; h++) out[b * hidden + h] /= count;
  }
  return out;
}

/** Indices that sort `scores` best first (ties by index). */
export function rankOrder(scores: ArrayLike<number>): number[] {
  return Array.from(scores, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
}
