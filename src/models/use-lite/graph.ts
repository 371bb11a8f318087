/**
 * Writes the Universal Sentence Encoder Lite encoder as an ONNX graph from the readable tensor names of
 * `tfjs-weights.ts` (Linear weights [out, in]), following ../shared/notes/use-lite-architecture.md.
 *
 * Self-attention uses onnxruntime's contrib Attention (fp32) / QAttention (int8) with the packed QKV kernel, as the
 * BERT writer does: USE Lite's q|k|v column layout with heads contiguous is exactly what those ops expect, and their
 * default 1/sqrt(head_size) scale is the graph's q multiplier (0.125 and 1/sqrt(128)). Their -10000 mask value
 * instead of TF's -1e9 changes nothing: exp(-10000) is already 0 in float32.
 */
import type { ModelHead } from '../config.js';
import type { TensorMap } from '../tensors.js';
import { getTensor } from '../tensors.js';
import { DataType, makeNode, makeTensor, makeValueInfo, serializeModel } from '../onnx/proto.js';
import type { AttrValue } from '../onnx/proto.js';
import { quantizeLinearWeight } from '../onnx/quantize.js';
import { transpose2d } from './tfjs-weights.js';

export type UseLiteDtype = 'fp32' | 'int8';

export interface UseLiteConfig {
  model_type: 'use-lite';
  vocab_size: number;
  embedding_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  layer_norm_eps: number;
  /** The graph adds the token embedding twice before layer 0. */
  embedding_multiplier: number;
  architectures?: string[];
  /** Cross-encoder variant only: segment types (query 0, document 1) and the classifier's labels. */
  type_vocab_size?: number;
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  sentence_transformers?: { activation_fn?: string };
}

/** The cross-encoder variant's label count: id2label when present, as Hugging Face configs do. */
export function useLiteLabels(config: UseLiteConfig): number {
  return config.id2label ? Object.keys(config.id2label).length : 1;
}

export const USE_LITE_CONFIG: UseLiteConfig = {
  model_type: 'use-lite',
  vocab_size: 8002,
  embedding_size: 256,
  hidden_size: 512,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 1536,
  max_position_embeddings: 128,
  layer_norm_eps: 1e-6,
  embedding_multiplier: 2,
};

const MS = 'com.microsoft';
const BATCH = 'batch_size';
const SEQ = 'sequence_length';
/** Output sequence axis: min(sequence_length, max_position_embeddings). */
const CLIPPED = 'clipped_sequence_length';

/**
 * sin/cos timing signal [positions, 2 * timescales], sin first, from the graph's own inverse timescales; the
 * product is rounded to float32 as TF computes it.
 */
export function timingSignal(invTimescales: Float32Array, positions: number): Float32Array {
  const n = invTimescales.length;
  const out = new Float32Array(positions * 2 * n);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < n; i++) {
      const t = Math.fround(p * invTimescales[i]);
      out[p * 2 * n + i] = Math.sin(t);
      out[p * 2 * n + n + i] = Math.cos(t);
    }
  }
  return out;
}

/**
 * The encoder graph. Head `none` (the sentence encoder) outputs `sentence_embedding` and `token_embeddings`; head
 * `sequence-classification` (the cross-encoder variant) takes `token_type_ids` too, adds the learned segment
 * embedding to layer 0's input, and outputs `logits` from the tanh-pooled vector (before any L2 norm), with the
 * inputs and output a BERT cross-encoder export has, so the same runtime code scores both.
 */
export function buildUseLiteOnnx(weights: TensorMap, dtype: UseLiteDtype, config: UseLiteConfig = USE_LITE_CONFIG, head: ModelHead = 'none'): Uint8Array {
  if (dtype !== 'fp32' && dtype !== 'int8') throw new Error(`onnx: unknown dtype "${dtype as string}"`);
  const cross = head === 'sequence-classification';
  if (config.num_hidden_layers !== 2) throw new Error('use-lite: the graph writer supports exactly 2 layers');
  const int8 = dtype === 'int8';
  const E = config.embedding_size;
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const heads = config.num_attention_heads;
  const eps = { float: config.layer_norm_eps };
  const maxPos = config.max_position_embeddings;

  const nodes: ReturnType<typeof makeNode>[] = [];
  const inits: ReturnType<typeof makeTensor>[] = [];
  const node = (op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, domain = ''): void => {
    nodes.push(makeNode(op, inputs, outputs, attrs, domain));
  };
  const init = (name: string, dims: number[], data: Float32Array | Int8Array | Int32Array | BigInt64Array): string => {
    inits.push(makeTensor(name, dims, data));
    return name;
  };
  const w = (name: string, shape: number[]): Float32Array => getTensor(weights, name, shape).data;

  /** `x @ W^T + b` for a torch-layout [out, in] weight: fp32 MatMul, or int8 per-channel DynamicQuantizeMatMul. */
  const linear = (x: string, name: string, out: number, inp: number): string => {
    const weight = w(`${name}.weight`, [out, inp]);
    const bias = init(`${name}.bias`, [out], w(`${name}.bias`, [out]));
    const y = `${name}_out`;
    if (int8) {
      const q = quantizeLinearWeight(weight, out, inp);
      const wq = init(`${name}.weight_int8`, [inp, out], q.data);
      const sc = init(`${name}.weight_scale`, [out], q.scales);
      const zp = init(`${name}.weight_zero_point`, [out], q.zeroPoints);
      node('DynamicQuantizeMatMul', [x, wq, sc, zp, bias], [y], {}, MS);
    } else {
      node('MatMul', [x, init(`${name}.weight_t`, [inp, out], transpose2d(weight, out, inp))], [`${y}_nobias`]);
      node('Add', [`${y}_nobias`, bias], [y]);
    }
    return y;
  };

  const layerNorm = (x: string, name: string, dim: number, out: string): string => {
    init(`${name}.weight`, [dim], w(`${name}.weight`, [dim]));
    init(`${name}.bias`, [dim], w(`${name}.bias`, [dim]));
    node('LayerNormalization', [x, `${name}.weight`, `${name}.bias`], [out], { axis: -1, epsilon: eps });
    return out;
  };

  const attention = (x: string, p: string, inp: number, out: string): void => {
    const wqkv = w(`${p}.qkv.weight`, [3 * inp, inp]);
    const bias = init(`${p}.qkv.bias`, [3 * inp], w(`${p}.qkv.bias`, [3 * inp]));
    if (int8) {
      const q = quantizeLinearWeight(wqkv, 3 * inp, inp);
      const wq = init(`${p}.qkv.weight_int8`, [inp, 3 * inp], q.data);
      const sc = init(`${p}.qkv.weight_scale`, [3 * inp], q.scales);
      const zp = init(`${p}.qkv.weight_zero_point`, [3 * inp], q.zeroPoints);
      node('DynamicQuantizeLinear', [x], [`${p}_xq`, `${p}_xq_scale`, `${p}_xq_zp`]);
      node('QAttention', [`${p}_xq`, wq, bias, `${p}_xq_scale`, sc, 'mask_i32', `${p}_xq_zp`, zp], [out], { num_heads: heads }, MS);
    } else {
      const wt = init(`${p}.qkv.weight_t`, [inp, 3 * inp], transpose2d(wqkv, 3 * inp, inp));
      node('Attention', [x, wt, bias, 'mask_i32'], [out], { num_heads: heads }, MS);
    }
  };

  /** Pre-norm feed-forward with its residual: y + W2 relu(W1 LN(y) + b1) + b2. */
  const ffn = (y: string, p: string, out: string): void => {
    const n = layerNorm(y, `${p}.ffn.norm`, H, `${p}_ffn_norm`);
    const f1 = linear(n, `${p}.ffn.dense1`, I, H);
    node('Relu', [f1], [`${p}_ffn_relu`]);
    const f2 = linear(`${p}_ffn_relu`, `${p}.ffn.dense2`, H, I);
    node('Add', [y, f2], [out]);
  };

  // Positions from max_position_embeddings on do not exist in the original graph: it drops those tokens.
  init('zero_1d', [1], BigInt64Array.of(0n));
  init('one_1d', [1], BigInt64Array.of(1n));
  init('max_positions_1d', [1], BigInt64Array.of(BigInt(maxPos)));
  node('Slice', ['input_ids', 'zero_1d', 'max_positions_1d', 'one_1d'], ['ids_clipped']);
  node('Slice', ['attention_mask', 'zero_1d', 'max_positions_1d', 'one_1d'], ['mask_clipped']);
  node('Cast', ['mask_clipped'], ['mask_i32'], { to: DataType.INT32 });
  node('Cast', ['mask_clipped'], ['mask_f'], { to: DataType.FLOAT });
  node('Unsqueeze', ['mask_f', 'minus_one_1d'], ['mask_f3']);
  init('minus_one_1d', [1], BigInt64Array.of(-1n));

  // x0 = 2 * embedding + timing signal. Doubling the table is exact in float32 and saves a node.
  const table = w('embeddings.word_embeddings.weight', [config.vocab_size, E]);
  const doubled = new Float32Array(table.length);
  for (let i = 0; i < table.length; i++) doubled[i] = table[i] * config.embedding_multiplier;
  init('word_embeddings_scaled', [config.vocab_size, E], doubled);
  const inv = w('embeddings.timing_inv_timescales', [E / 2]);
  init('position_signal', [maxPos, E], timingSignal(inv, maxPos));
  node('Gather', ['word_embeddings_scaled', 'ids_clipped'], ['tok_emb']);
  node('Shape', ['ids_clipped'], ['seq_len_1d'], { start: 1, end: 2 });
  node('Slice', ['position_signal', 'zero_1d', 'seq_len_1d', 'zero_1d'], ['pos_signal']);
  if (cross) {
    const types = config.type_vocab_size ?? 2;
    init('embeddings.token_type_embeddings.weight', [types, E], w('embeddings.token_type_embeddings.weight', [types, E]));
    node('Slice', ['token_type_ids', 'zero_1d', 'max_positions_1d', 'one_1d'], ['types_clipped']);
    node('Gather', ['embeddings.token_type_embeddings.weight', 'types_clipped'], ['type_emb']);
    node('Add', ['tok_emb', 'type_emb'], ['tok_type_emb']);
    node('Add', ['tok_type_emb', 'pos_signal'], ['x0']);
  } else {
    node('Add', ['tok_emb', 'pos_signal'], ['x0']);
  }

  // Layer 0: 256 -> 512; the residual is a projection of the raw x0, not of the normalised input.
  const l0 = 'encoder.layer.0';
  layerNorm('x0', `${l0}.attention.norm`, E, 'l0_attn_norm');
  attention('l0_attn_norm', `${l0}.attention`, E, 'l0_ctx');
  const o0 = linear('l0_ctx', `${l0}.attention.output`, H, E);
  const r0 = linear('x0', `${l0}.residual_projection`, H, E);
  node('Add', [r0, o0], ['l0_attn_out']);
  ffn('l0_attn_out', l0, 'l0_out');

  const l1 = 'encoder.layer.1';
  layerNorm('l0_out', `${l1}.attention.norm`, H, 'l1_attn_norm');
  attention('l1_attn_norm', `${l1}.attention`, H, 'l1_ctx');
  const o1 = linear('l1_ctx', `${l1}.attention.output`, H, H);
  node('Add', ['l0_out', o1], ['l1_attn_out']);
  ffn('l1_attn_out', l1, 'l1_out');

  // Padded rows carry values the original graph never defines; zero them so they cannot leak into anything.
  node('Mul', ['l1_out', 'mask_f3'], ['token_embeddings']);

  // Masked mean, tanh layer, then x / sqrt(max(sum x^2, 1e-12)) like tf.math.l2_normalize. fp32 even in int8
  // models: it is one small matmul per sequence.
  init('axis1_1d', [1], BigInt64Array.of(1n));
  init('one_f', [], Float32Array.of(1));
  node('ReduceSum', ['token_embeddings', 'axis1_1d'], ['pool_sum'], { keepdims: 0 });
  node('ReduceSum', ['mask_f', 'axis1_1d'], ['pool_len'], { keepdims: 1 });
  node('Max', ['pool_len', 'one_f'], ['pool_len_safe']);
  node('Div', ['pool_sum', 'pool_len_safe'], ['pool_mean']);
  init('pooler.dense.weight', [H, H], w('pooler.dense.weight', [H, H]));
  init('pooler.dense.bias', [H], w('pooler.dense.bias', [H]));
  node('Gemm', ['pool_mean', 'pooler.dense.weight', 'pooler.dense.bias'], ['pool_linear'], { transB: 1 });
  node('Tanh', ['pool_linear'], ['pool_tanh']);
  const inputNames = cross ? ['input_ids', 'attention_mask', 'token_type_ids'] : ['input_ids', 'attention_mask'];
  const metadata = { rankwise_model_type: 'use-lite', rankwise_dtype: dtype, rankwise_head: head };
  if (cross) {
    const labels = useLiteLabels(config);
    init('classifier.weight', [labels, H], w('classifier.weight', [labels, H]));
    init('classifier.bias', [labels], w('classifier.bias', [labels]));
    node('Gemm', ['pool_tanh', 'classifier.weight', 'classifier.bias'], ['logits'], { transB: 1 });
    return serializeModel({
      graphName: `rankwise_use_lite_cross_encoder_${dtype}`,
      nodes,
      initializers: inits,
      inputs: inputNames.map((name) => makeValueInfo(name, DataType.INT64, [BATCH, SEQ])),
      outputs: [makeValueInfo('logits', DataType.FLOAT, [BATCH, labels])],
      opsets: { '': 17, [MS]: 1 },
      metadata,
    });
  }
  init('l2_eps', [], Float32Array.of(1e-12));
  node('Mul', ['pool_tanh', 'pool_tanh'], ['pool_sq']);
  node('ReduceSum', ['pool_sq', 'axis1_1d'], ['pool_ss'], { keepdims: 1 });
  node('Max', ['pool_ss', 'l2_eps'], ['pool_ss_safe']);
  node('Sqrt', ['pool_ss_safe'], ['pool_norm']);
  node('Div', ['pool_tanh', 'pool_norm'], ['sentence_embedding']);

  return serializeModel({
    graphName: `rankwise_use_lite_${dtype}`,
    nodes,
    initializers: inits,
    inputs: inputNames.map((name) => makeValueInfo(name, DataType.INT64, [BATCH, SEQ])),
    outputs: [
      makeValueInfo('sentence_embedding', DataType.FLOAT, [BATCH, H]),
      makeValueInfo('token_embeddings', DataType.FLOAT, [BATCH, CLIPPED, H]),
    ],
    opsets: { '': 17, [MS]: 1 },
    metadata,
  });
}
