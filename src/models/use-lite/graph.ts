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
import { DataType } from '../onnx/proto.js';
import { BATCH_AXIS, GraphBuilder, type OnnxDtype } from '../onnx/graph-builder.js';
import { ModelInvalidError } from '../../errors.js';

export type UseLiteDtype = OnnxDtype;

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

/** What every part of the graph needs: the builder, a weight lookup by readable name and the config. */
interface UseLiteGraph {
  b: GraphBuilder;
  w: (name: string, shape: number[]) => Float32Array;
  config: UseLiteConfig;
}

/** `x @ W^T + b` for the torch-layout Linear `${name}.weight` / `${name}.bias`. */
function linear({ b, w }: UseLiteGraph, x: string, name: string, out: number, inp: number): string {
  const weight = w(`${name}.weight`, [out, inp]);
  return b.linear(x, name, weight, out, inp, b.initializer(`${name}.bias`, [out], w(`${name}.bias`, [out])));
}

function layerNorm({ b, w, config }: UseLiteGraph, x: string, name: string, dim: number, out: string): string {
  const gamma = b.initializer(`${name}.weight`, [dim], w(`${name}.weight`, [dim]));
  const beta = b.initializer(`${name}.bias`, [dim], w(`${name}.bias`, [dim]));
  return b.layerNorm(x, gamma, beta, out, config.layer_norm_eps);
}

function attention({ b, w, config }: UseLiteGraph, x: string, p: string, inp: number, out: string): void {
  const wqkv = w(`${p}.qkv.weight`, [3 * inp, inp]);
  const bias = b.initializer(`${p}.qkv.bias`, [3 * inp], w(`${p}.qkv.bias`, [3 * inp]));
  b.packedAttention(x, p, wqkv, inp, bias, 'mask_i32', config.num_attention_heads, out);
}

/** Pre-norm feed-forward with its residual: y + W2 relu(W1 LN(y) + b1) + b2. */
function ffn(graph: UseLiteGraph, y: string, p: string, out: string): void {
  const { b, config } = graph;
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const n = layerNorm(graph, y, `${p}.ffn.norm`, H, `${p}_ffn_norm`);
  const f1 = linear(graph, n, `${p}.ffn.dense1`, I, H);
  b.node('Relu', [f1], [`${p}_ffn_relu`]);
  const f2 = linear(graph, `${p}_ffn_relu`, `${p}.ffn.dense2`, H, I);
  b.node('Add', [y, f2], [out]);
}

/** Clips ids and mask to max_position_embeddings and derives the int32 and float masks. */
function clippedInputs({ b, config }: UseLiteGraph): void {
  // Positions from max_position_embeddings on do not exist in the original graph: it drops those tokens.
  b.int64Constant('zero_1d', 0n);
  b.int64Constant('one_1d', 1n);
  b.int64Constant('max_positions_1d', BigInt(config.max_position_embeddings));
  const clip = (input: string, out: string) => b.node('Slice', [input, 'zero_1d', 'max_positions_1d', 'one_1d'], [out]);
  clip('input_ids', 'ids_clipped');
  clip('attention_mask', 'mask_clipped');
  b.node('Cast', ['mask_clipped'], ['mask_i32'], { to: DataType.INT32 });
  b.node('Cast', ['mask_clipped'], ['mask_f'], { to: DataType.FLOAT });
  b.node('Unsqueeze', ['mask_f', 'minus_one_1d'], ['mask_f3']);
  b.int64Constant('minus_one_1d', -1n);
}

/** x0 = 2 * embedding + timing signal (+ the segment embedding for the cross-encoder). */
function embeddings(graph: UseLiteGraph, cross: boolean): void {
  const { b, w, config } = graph;
  const E = config.embedding_size;
  const maxPos = config.max_position_embeddings;
  // Doubling the table is exact in float32 and saves a node.
  const table = w('embeddings.word_embeddings.weight', [config.vocab_size, E]);
  const doubled = new Float32Array(table.length);
  for (let i = 0; i < table.length; i++) doubled[i] = table[i] * config.embedding_multiplier;
  b.initializer('word_embeddings_scaled', [config.vocab_size, E], doubled);
  const inv = w('embeddings.timing_inv_timescales', [E / 2]);
  b.initializer('position_signal', [maxPos, E], timingSignal(inv, maxPos));
  b.node('Gather', ['word_embeddings_scaled', 'ids_clipped'], ['tok_emb']);
  b.positionSlice('position_signal', 'ids_clipped', 'pos_signal');
  if (cross) {
    const types = config.type_vocab_size ?? 2;
    b.initializer('embeddings.token_type_embeddings.weight', [types, E], w('embeddings.token_type_embeddings.weight', [types, E]));
    b.node('Slice', ['token_type_ids', 'zero_1d', 'max_positions_1d', 'one_1d'], ['types_clipped']);
    b.node('Gather', ['embeddings.token_type_embeddings.weight', 'types_clipped'], ['type_emb']);
    b.node('Add', ['tok_emb', 'type_emb'], ['tok_type_emb']);
    b.node('Add', ['tok_type_emb', 'pos_signal'], ['x0']);
  } else {
    b.node('Add', ['tok_emb', 'pos_signal'], ['x0']);
  }
}

/** The two pre-norm layers; the padded rows of the output are zeroed into `token_embeddings`. */
function encoder(graph: UseLiteGraph): void {
  const { b, config } = graph;
  const E = config.embedding_size;
  const H = config.hidden_size;
  // Layer 0: 256 -> 512; the residual is a projection of the raw x0, not of the normalised input.
  const l0 = 'encoder.layer.0';
  layerNorm(graph, 'x0', `${l0}.attention.norm`, E, 'l0_attn_norm');
  attention(graph, 'l0_attn_norm', `${l0}.attention`, E, 'l0_ctx');
  const o0 = linear(graph, 'l0_ctx', `${l0}.attention.output`, H, E);
  const r0 = linear(graph, 'x0', `${l0}.residual_projection`, H, E);
  b.node('Add', [r0, o0], ['l0_attn_out']);
  ffn(graph, 'l0_attn_out', l0, 'l0_out');

  const l1 = 'encoder.layer.1';
  layerNorm(graph, 'l0_out', `${l1}.attention.norm`, H, 'l1_attn_norm');
  attention(graph, 'l1_attn_norm', `${l1}.attention`, H, 'l1_ctx');
  const o1 = linear(graph, 'l1_ctx', `${l1}.attention.output`, H, H);
  b.node('Add', ['l0_out', o1], ['l1_attn_out']);
  ffn(graph, 'l1_attn_out', l1, 'l1_out');

  // Padded rows carry values the original graph never defines; zero them so they cannot leak into anything.
  b.node('Mul', ['l1_out', 'mask_f3'], ['token_embeddings']);
}

/**
 * Masked mean and the tanh layer into `pool_tanh`. fp32 even in int8 models: it is one small matmul per sequence.
 */
function pooler({ b, w, config }: UseLiteGraph): void {
  const H = config.hidden_size;
  b.int64Constant('axis1_1d', 1n);
  b.initializer('one_f', [], Float32Array.of(1));
  b.node('ReduceSum', ['token_embeddings', 'axis1_1d'], ['pool_sum'], { keepdims: 0 });
  b.node('ReduceSum', ['mask_f', 'axis1_1d'], ['pool_len'], { keepdims: 1 });
  b.node('Max', ['pool_len', 'one_f'], ['pool_len_safe']);
  b.node('Div', ['pool_sum', 'pool_len_safe'], ['pool_mean']);
  b.initializer('pooler.dense.weight', [H, H], w('pooler.dense.weight', [H, H]));
  b.initializer('pooler.dense.bias', [H], w('pooler.dense.bias', [H]));
  b.node('Gemm', ['pool_mean', 'pooler.dense.weight', 'pooler.dense.bias'], ['pool_linear'], { transB: 1 });
  b.node('Tanh', ['pool_linear'], ['pool_tanh']);
}

/** The cross-encoder's classifier on the pooled vector; returns the label count. */
function classifier({ b, w, config }: UseLiteGraph): number {
  const H = config.hidden_size;
  const labels = useLiteLabels(config);
  b.initializer('classifier.weight', [labels, H], w('classifier.weight', [labels, H]));
  b.initializer('classifier.bias', [labels], w('classifier.bias', [labels]));
  b.node('Gemm', ['pool_tanh', 'classifier.weight', 'classifier.bias'], ['logits'], { transB: 1 });
  return labels;
}

/** x / sqrt(max(sum x^2, 1e-12)) like tf.math.l2_normalize, into `sentence_embedding`. */
function l2Normalize({ b }: UseLiteGraph): void {
  b.initializer('l2_eps', [], Float32Array.of(1e-12));
  b.node('Mul', ['pool_tanh', 'pool_tanh'], ['pool_sq']);
  b.node('ReduceSum', ['pool_sq', 'axis1_1d'], ['pool_ss'], { keepdims: 1 });
  b.node('Max', ['pool_ss', 'l2_eps'], ['pool_ss_safe']);
  b.node('Sqrt', ['pool_ss_safe'], ['pool_norm']);
  b.node('Div', ['pool_tanh', 'pool_norm'], ['sentence_embedding']);
}

/**
 * The encoder graph. Head `none` (the sentence encoder) outputs `sentence_embedding` and `token_embeddings`; head
 * `sequence-classification` (the cross-encoder variant) takes `token_type_ids` too, adds the learned segment
 * embedding to layer 0's input, and outputs `logits` from the tanh-pooled vector (before any L2 norm), with the
 * inputs and output a BERT cross-encoder export has, so the same runtime code scores both.
 */
export function buildUseLiteOnnx(weights: TensorMap, dtype: UseLiteDtype, config: UseLiteConfig = USE_LITE_CONFIG, head: ModelHead = 'none'): Uint8Array {
  const b = new GraphBuilder(dtype);
  const cross = head === 'sequence-classification';
  if (config.num_hidden_layers !== 2) throw new ModelInvalidError('use-lite: the graph writer supports exactly 2 layers');
  const graph: UseLiteGraph = { b, w: (name, shape) => getTensor(weights, name, shape).data, config };
  clippedInputs(graph);
  embeddings(graph, cross);
  encoder(graph);
  pooler(graph);
  const metadata = { rankwise_model_type: 'use-lite', rankwise_dtype: dtype, rankwise_head: head };
  if (cross) {
    return b.serialize({
      graphName: `rankwise_use_lite_cross_encoder_${dtype}`,
      tokenInputs: ['input_ids', 'attention_mask', 'token_type_ids'],
      outputs: [{ name: 'logits', dims: [BATCH_AXIS, classifier(graph)] }],
      metadata,
    });
  }
  l2Normalize(graph);
  return b.serialize({
    graphName: `rankwise_use_lite_${dtype}`,
    tokenInputs: ['input_ids', 'attention_mask'],
    outputs: [
      { name: 'sentence_embedding', dims: [BATCH_AXIS, config.hidden_size] },
      { name: 'token_embeddings', dims: [BATCH_AXIS, CLIPPED, config.hidden_size] },
    ],
    metadata,
  });
}
