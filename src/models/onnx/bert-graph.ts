/**
 * Writes a BERT-family encoder (optionally with the BertForSequenceClassification head) as an ONNX model straight
 * from Hugging Face weights, so rankwise can export fine-tuned or converted models without Python.
 *
 * The graph is written already fused into onnxruntime contrib ops (Attention / QAttention with packed QKV weights,
 * BiasGelu / FastGelu, DynamicQuantizeMatMul) because onnxruntime's optimizer only fuses the exact subgraph shapes
 * its own Python exporter produces. Residual + LayerNorm deliberately stays as Add + standard LayerNormalization:
 * on onnxruntime-node 1.30 (CPU) contrib SkipLayerNormalization measured ~3x slower than that pair and cost ~10%
 * end to end (bench/onnx-graph-speed.ts --variants).
 */
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { BertConfig, ModelHead } from '../config.js';
import { numLabels } from '../config.js';
import type { Float32Tensor, TensorMap } from '../tensors.js';
import { DataType, makeNode, makeTensor, makeValueInfo, serializeModel } from './proto.js';
import type { AttrValue } from './proto.js';
import { quantizeLinearWeight } from './quantize.js';

export type OnnxDtype = 'fp32' | 'int8';

export interface BertOnnxOptions {
  head: ModelHead;
  dtype: OnnxDtype;
}

/**
 * Alternative graph shapes, kept so the speed benchmark can compare them; the defaults are the fastest measured.
 * @internal
 */
export interface BertGraphTuning {
  /** fp32 self-attention: `attention` = contrib Attention with packed QKV weights (it runs the projection itself),
   *  `mha` = packed MatMul, Split, contrib MultiHeadAttention. */
  fp32Attention?: 'attention' | 'mha';
  /** int8 self-attention: `mha` = DynamicQuantizeMatMul on packed QKV, Split, MultiHeadAttention;
   *  `qattention` = DynamicQuantizeLinear + contrib QAttention. */
  int8Attention?: 'mha' | 'qattention';
  /** Residual + LayerNorm: contrib SkipLayerNormalization, or bias Add, residual Add, standard LayerNormalization. */
  residualNorm?: 'skip' | 'standard';
}

const MS = 'com.microsoft';
const BATCH = 'batch_size';
const SEQ = 'sequence_length';

interface Builder {
  nodes: ReturnType<typeof makeNode>[];
  inits: ReturnType<typeof makeTensor>[];
  node(op: string, inputs: string[], outputs: string[], attrs?: Record<string, AttrValue>, domain?: string): void;
  init(name: string, dims: number[], data: Float32Array | Int8Array | Int32Array | BigInt64Array): string;
}

function newBuilder(): Builder {
  const b: Builder = {
    nodes: [],
    inits: [],
    node(op, inputs, outputs, attrs = {}, domain = '') {
      b.nodes.push(makeNode(op, inputs, outputs, attrs, domain));
    },
    init(name, dims, data) {
      b.inits.push(makeTensor(name, dims, data));
      return name;
    },
  };
  return b;
}

/** Looks a parameter up under either spelling: `bert.`-prefixed (ForSequenceClassification) or bare (BertModel). */
function weightGetter(weights: TensorMap) {
  return (name: string, shape: number[]): Float32Tensor => {
    const t = weights.get(`bert.${name}`) ?? weights.get(name);
    const shown = weights.has(`bert.${name}`) ? `bert.${name}` : name;
    if (!t) throw new Error(`weights: missing tensor "${name}" (also looked for "bert.${name}")`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`weights: tensor "${shown}" has shape [${t.shape}], expected [${shape}]`);
    }
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`weights: tensor "${shown}" holds ${t.data.length} values, shape [${shape}] needs more`);
    }
    return t;
  };
}

function headWeight(weights: TensorMap, name: string, shape: number[]): Float32Tensor {
  const t = weights.get(name);
  if (!t) throw new Error(`weights: missing tensor "${name}"`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`weights: tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
  }
  return t;
}

/** torch Linear stores [out, in]; ONNX MatMul wants B as [in, out]. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function checkConfig(config: BertConfig): void {
  for (const k of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size',
    'max_position_embeddings', 'type_vocab_size'] as const) {
    const v = config[k];
    if (!Number.isInteger(v) || v <= 0) throw new Error(`config: "${k}" must be a positive integer, got ${v}`);
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new Error(`config: hidden_size ${config.hidden_size} is not divisible by num_attention_heads ${config.num_attention_heads}`);
  }
  const act = config.hidden_act ?? 'gelu';
  if (!['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'].includes(act)) {
    throw new Error(`config: hidden_act "${act}" is not supported (gelu, gelu_new, relu)`);
  }
}

export function buildBertOnnx(
  config: BertConfig,
  weights: TensorMap,
  options: BertOnnxOptions,
  tuning: BertGraphTuning = {},
): Uint8Array {
  checkConfig(config);
  const fp32Attention = tuning.fp32Attention ?? 'attention';
  const int8Attention = tuning.int8Attention ?? 'qattention';
  const residualNorm = tuning.residualNorm ?? 'standard';
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const N = config.num_attention_heads;
  const eps = config.layer_norm_eps ?? 1e-12;
  const act = config.hidden_act ?? 'gelu';
  const int8 = options.dtype === 'int8';
  if (options.dtype !== 'fp32' && options.dtype !== 'int8') throw new Error(`onnx: unknown dtype "${options.dtype}"`);
  const w = weightGetter(weights);
  const b = newBuilder();

  /** Adds `x @ W^T` (no bias) for a torch Linear weight, fp32 or int8 per-channel. */
  const linear = (x: string, weight: Float32Array, out: number, inp: number, name: string, bias?: string): string => {
    const y = `${name}_out`;
    if (int8) {
      const q = quantizeLinearWeight(weight, out, inp);
      const wq = b.init(`${name}.weight_int8`, [inp, out], q.data);
      const sc = b.init(`${name}.weight_scale`, [out], q.scales);
      const zp = b.init(`${name}.weight_zero_point`, [out], q.zeroPoints);
      b.node('DynamicQuantizeMatMul', bias ? [x, wq, sc, zp, bias] : [x, wq, sc, zp], [y], {}, MS);
    } else {
      const wt = b.init(`${name}.weight_t`, [inp, out], transpose(weight, out, inp));
      b.node('MatMul', [x, wt], [y]);
      if (bias) {
        b.node('Add', [y, bias], [`${y}_biased`]);
        return `${y}_biased`;
      }
    }
    return y;
  };

  /** LayerNorm(y + bias + residual); see the file comment for why 'standard' is the default. */
  const addNorm = (y: string, residual: string, gamma: string, beta: string, bias: string, out: string): void => {
    if (residualNorm === 'skip') {
      b.node('SkipLayerNormalization', [y, residual, gamma, beta, bias], [out], { epsilon: { float: eps } }, MS);
    } else {
      b.node('Add', [y, bias], [`${out}_biased`]);
      b.node('Add', [`${out}_biased`, residual], [`${out}_sum`]);
      b.node('LayerNormalization', [`${out}_sum`, gamma, beta], [out], { axis: -1, epsilon: { float: eps } });
    }
  };

  // Embeddings: word + token type + position (0..T-1), then LayerNorm.
  const wordEmb = w('embeddings.word_embeddings.weight', [config.vocab_size, H]);
  const posEmb = w('embeddings.position_embeddings.weight', [config.max_position_embeddings, H]);
  const typeEmb = w('embeddings.token_type_embeddings.weight', [config.type_vocab_size, H]);
  b.init('word_embeddings', [config.vocab_size, H], wordEmb.data);
  b.init('position_embeddings', [config.max_position_embeddings, H], posEmb.data);
  b.init('token_type_embeddings', [config.type_vocab_size, H], typeEmb.data);
  b.init('emb_ln.weight', [H], w('embeddings.LayerNorm.weight', [H]).data);
  b.init('emb_ln.bias', [H], w('embeddings.LayerNorm.bias', [H]).data);
  b.init('zero_1d', [1], BigInt64Array.of(0n));
  b.node('Gather', ['word_embeddings', 'input_ids'], ['word_emb']);
  b.node('Gather', ['token_type_embeddings', 'token_type_ids'], ['type_emb']);
  b.node('Shape', ['input_ids'], ['seq_len_1d'], { start: 1, end: 2 });
  b.node('Slice', ['position_embeddings', 'zero_1d', 'seq_len_1d', 'zero_1d'], ['pos_emb']);
  b.node('Add', ['word_emb', 'type_emb'], ['wt_emb']);
  b.node('Add', ['wt_emb', 'pos_emb'], ['emb_sum']);
  b.node('LayerNormalization', ['emb_sum', 'emb_ln.weight', 'emb_ln.bias'], ['hidden_0'], { axis: -1, epsilon: { float: eps } });
  // Contrib attention ops take the 0/1 padding mask as int32 and apply a large negative to masked keys, like HF.
  b.node('Cast', ['attention_mask'], ['mask_i32'], { to: DataType.INT32 });

  let x = 'hidden_0';
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    const n = `l${l}`;
    const wq = w(`${p}.attention.self.query.weight`, [H, H]);
    const wk = w(`${p}.attention.self.key.weight`, [H, H]);
    const wv = w(`${p}.attention.self.value.weight`, [H, H]);
    const bqkv = concat([
      w(`${p}.attention.self.query.bias`, [H]).data,
      w(`${p}.attention.self.key.bias`, [H]).data,
      w(`${p}.attention.self.value.bias`, [H]).data,
    ]);
    // Rows of the torch [out, in] weights stacked = a [3H, H] Linear whose output is q | k | v.
    const wqkv = concat([wq.data, wk.data, wv.data]);
    const attnOut = `${n}_attn`;
    const qkvBias = b.init(`${n}.qkv.bias`, [3 * H], bqkv);
    if (!int8 && fp32Attention === 'attention') {
      const wt = b.init(`${n}.qkv.weight_t`, [H, 3 * H], transpose(wqkv, 3 * H, H));
      b.node('Attention', [x, wt, qkvBias, 'mask_i32'], [attnOut], { num_heads: N }, MS);
    } else if (int8 && int8Attention === 'qattention') {
      const q = quantizeLinearWeight(wqkv, 3 * H, H);
      const wqn = b.init(`${n}.qkv.weight_int8`, [H, 3 * H], q.data);
      const sc = b.init(`${n}.qkv.weight_scale`, [3 * H], q.scales);
      const zp = b.init(`${n}.qkv.weight_zero_point`, [3 * H], q.zeroPoints);
      b.node('DynamicQuantizeLinear', [x], [`${n}_xq`, `${n}_xq_scale`, `${n}_xq_zp`]);
      b.node('QAttention', [`${n}_xq`, wqn, qkvBias, `${n}_xq_scale`, sc, 'mask_i32', `${n}_xq_zp`, zp], [attnOut], { num_heads: N }, MS);
    } else {
      const qkv = linear(x, wqkv, 3 * H, H, `${n}.qkv`);
      b.node('Split', [qkv], [`${n}_q`, `${n}_k`, `${n}_v`], { axis: 2 });
      b.node('MultiHeadAttention', [`${n}_q`, `${n}_k`, `${n}_v`, qkvBias, 'mask_i32'], [attnOut], { num_heads: N }, MS);
    }

    const ao = linear(attnOut, w(`${p}.attention.output.dense.weight`, [H, H]).data, H, H, `${n}.attn_out`);
    b.init(`${n}.attn_out.bias`, [H], w(`${p}.attention.output.dense.bias`, [H]).data);
    b.init(`${n}.attn_ln.weight`, [H], w(`${p}.attention.output.LayerNorm.weight`, [H]).data);
    b.init(`${n}.attn_ln.bias`, [H], w(`${p}.attention.output.LayerNorm.bias`, [H]).data);
    const x1 = `${n}_attn_ln`;
    addNorm(ao, x, `${n}.attn_ln.weight`, `${n}.attn_ln.bias`, `${n}.attn_out.bias`, x1);

    const f1 = linear(x1, w(`${p}.intermediate.dense.weight`, [I, H]).data, I, H, `${n}.ffn1`);
    const b1 = b.init(`${n}.ffn1.bias`, [I], w(`${p}.intermediate.dense.bias`, [I]).data);
    const g = `${n}_act`;
    if (act === 'gelu') b.node('BiasGelu', [f1, b1], [g], {}, MS);
    else if (act === 'relu') {
      b.node('Add', [f1, b1], [`${n}_ffn1_biased`]);
      b.node('Relu', [`${n}_ffn1_biased`], [g]);
    } else b.node('FastGelu', [f1, b1], [g], {}, MS); // tanh approximation, the same formula as HF's gelu_new

    const f2 = linear(g, w(`${p}.output.dense.weight`, [H, I]).data, H, I, `${n}.ffn2`);
    b.init(`${n}.ffn2.bias`, [H], w(`${p}.output.dense.bias`, [H]).data);
    b.init(`${n}.ffn_ln.weight`, [H], w(`${p}.output.LayerNorm.weight`, [H]).data);
    b.init(`${n}.ffn_ln.bias`, [H], w(`${p}.output.LayerNorm.bias`, [H]).data);
    const last = l === config.num_hidden_layers - 1 && options.head === 'none';
    const x2 = last ? 'last_hidden_state' : `${n}_out`;
    addNorm(f2, x1, `${n}.ffn_ln.weight`, `${n}.ffn_ln.bias`, `${n}.ffn2.bias`, x2);
    x = x2;
  }
  if (config.num_hidden_layers === 0 && options.head === 'none') b.node('Identity', [x], ['last_hidden_state']);

  const outputs = [];
  if (options.head === 'sequence-classification') {
    const L = numLabels(config);
    // Pooler and classifier run on one vector per sequence, so they stay fp32 even in int8 models.
    b.init('pooler.weight', [H, H], w('pooler.dense.weight', [H, H]).data);
    b.init('pooler.bias', [H], w('pooler.dense.bias', [H]).data);
    b.init('classifier.weight', [L, H], headWeight(weights, 'classifier.weight', [L, H]).data);
    b.init('classifier.bias', [L], headWeight(weights, 'classifier.bias', [L]).data);
    b.init('cls_index', [], BigInt64Array.of(0n));
    b.node('Gather', [x, 'cls_index'], ['cls_hidden'], { axis: 1 });
    b.node('Gemm', ['cls_hidden', 'pooler.weight', 'pooler.bias'], ['pooled_linear'], { transB: 1 });
    b.node('Tanh', ['pooled_linear'], ['pooled']);
    b.node('Gemm', ['pooled', 'classifier.weight', 'classifier.bias'], ['logits'], { transB: 1 });
    outputs.push(makeValueInfo('logits', DataType.FLOAT, [BATCH, L]));
  } else if (options.head === 'none') {
    outputs.push(makeValueInfo('last_hidden_state', DataType.FLOAT, [BATCH, SEQ, H]));
  } else {
    throw new Error(`onnx: unknown head "${options.head as string}"`);
  }

  return serializeModel({
    graphName: `rankwise_bert_${options.head}_${options.dtype}`,
    nodes: b.nodes,
    initializers: b.inits,
    inputs: ['input_ids', 'attention_mask', 'token_type_ids'].map((name) => makeValueInfo(name, DataType.INT64, [BATCH, SEQ])),
    outputs,
    opsets: { '': 17, [MS]: 1 },
    metadata: { rankwise_head: options.head, rankwise_dtype: options.dtype },
  });
}

/** Writes the graph atomically (temporary file, then rename), so a reader never sees a half-written model. */
export async function writeBertOnnx(path: string, config: BertConfig, weights: TensorMap, options: BertOnnxOptions): Promise<void> {
  await writeFileAtomic(path, buildBertOnnx(config, weights, options));
}
