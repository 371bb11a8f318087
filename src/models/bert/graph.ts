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
import { DataType } from '../onnx/proto.js';
import { BATCH_AXIS, checkDtype, GraphBuilder, MS_DOMAIN, SEQUENCE_AXIS, type OnnxDtype } from '../onnx/graph-builder.js';
import { getTensor, type Float32Tensor, type TensorMap } from '../tensors.js';
import { ModelInvalidError } from '../../errors.js';

export type { OnnxDtype };

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

/** The fastest measured graph shapes (bench/onnx-graph-speed.ts); other families with BERT's encoder use them too. */
export const DEFAULT_TUNING: Required<BertGraphTuning> = { fp32Attention: 'attention', int8Attention: 'qattention', residualNorm: 'standard' };

type WeightLookup = (name: string, shape: number[]) => Float32Tensor;

/**
 * Looks a parameter up under either spelling: `bert.`-prefixed (ForSequenceClassification) or bare (BertModel);
 * other families whose encoder is BERT's pass their own prefix (`roberta`).
 */
export function weightGetter(weights: TensorMap, prefix = 'bert'): WeightLookup {
  return (name, shape) => {
    const shown = weights.has(`${prefix}.${name}`) ? `${prefix}.${name}` : name;
    if (!weights.has(shown)) throw new ModelInvalidError(`weights: missing tensor "${name}" (also looked for "${prefix}.${name}")`);
    const t = getTensor(weights, shown, shape);
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new ModelInvalidError(`weights: tensor "${shown}" holds ${t.data.length} values, shape [${shape}] needs more`);
    }
    return t;
  };
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
    if (!Number.isInteger(v) || v <= 0) throw new ModelInvalidError(`config: "${k}" must be a positive integer, got ${v}`);
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new ModelInvalidError(`config: hidden_size ${config.hidden_size} is not divisible by num_attention_heads ${config.num_attention_heads}`);
  }
  const act = config.hidden_act ?? 'gelu';
  if (!['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'].includes(act)) {
    throw new ModelInvalidError(`config: hidden_act "${act}" is not supported (gelu, gelu_new, relu)`);
  }
}

/** What every part of the graph needs: the builder, the weights and the resolved config and tuning. */
export interface BertGraph {
  b: GraphBuilder;
  w: WeightLookup;
  config: BertConfig;
  eps: number;
  tuning: Required<BertGraphTuning>;
}

/** Word + token type + position (0..T-1) embeddings, then LayerNorm; returns the layer-0 input. */
function embeddings({ b, w, config, eps }: BertGraph): string {
  const H = config.hidden_size;
  b.initializer('word_embeddings', [config.vocab_size, H], w('embeddings.word_embeddings.weight', [config.vocab_size, H]).data);
  b.initializer('position_embeddings', [config.max_position_embeddings, H], w('embeddings.position_embeddings.weight', [config.max_position_embeddings, H]).data);
  b.initializer('token_type_embeddings', [config.type_vocab_size, H], w('embeddings.token_type_embeddings.weight', [config.type_vocab_size, H]).data);
  b.initializer('emb_ln.weight', [H], w('embeddings.LayerNorm.weight', [H]).data);
  b.initializer('emb_ln.bias', [H], w('embeddings.LayerNorm.bias', [H]).data);
  b.node('Gather', ['word_embeddings', 'input_ids'], ['word_emb']);
  b.node('Gather', ['token_type_embeddings', 'token_type_ids'], ['type_emb']);
  b.positionSlice('position_embeddings', 'input_ids', 'pos_emb');
  b.node('Add', ['word_emb', 'type_emb'], ['wt_emb']);
  b.node('Add', ['wt_emb', 'pos_emb'], ['emb_sum']);
  return b.layerNorm('emb_sum', 'emb_ln.weight', 'emb_ln.bias', 'hidden_0', eps);
}

/** Multi-head self-attention over `x` with packed QKV weights, in the op shape the tuning picks; returns its output. */
function selfAttention({ b, w, config, tuning }: BertGraph, x: string, p: string, n: string): string {
  const H = config.hidden_size;
  const N = config.num_attention_heads;
  // Rows of the torch [out, in] weights stacked = a [3H, H] Linear whose output is q | k | v.
  const wqkv = concat(['query', 'key', 'value'].map((m) => w(`${p}.attention.self.${m}.weight`, [H, H]).data));
  const bqkv = concat(['query', 'key', 'value'].map((m) => w(`${p}.attention.self.${m}.bias`, [H]).data));
  const attnOut = `${n}_attn`;
  const qkvBias = b.initializer(`${n}.qkv.bias`, [3 * H], bqkv);
  const packedKernel = b.int8 ? tuning.int8Attention === 'qattention' : tuning.fp32Attention === 'attention';
  if (packedKernel) {
    b.packedAttention(x, n, wqkv, H, qkvBias, 'mask_i32', N, attnOut);
  } else {
    const qkv = b.linear(x, `${n}.qkv`, wqkv, 3 * H, H);
    b.node('Split', [qkv], [`${n}_q`, `${n}_k`, `${n}_v`], { axis: 2 });
    b.node('MultiHeadAttention', [`${n}_q`, `${n}_k`, `${n}_v`, qkvBias, 'mask_i32'], [attnOut], { num_heads: N }, MS_DOMAIN);
  }
  return attnOut;
}

/**
 * LayerNorm(y + bias + residual) for torch's `${torchName}.dense.bias` and `${torchName}.LayerNorm`, added as
 * `${biasName}.bias` and `${normName}.*`; see the file comment for why 'standard' is the default.
 */
function addNorm(graph: BertGraph, y: string, residual: string, torchName: string, biasName: string, normName: string, out: string): void {
  const { b, w, config, eps } = graph;
  const H = config.hidden_size;
  const bias = b.initializer(`${biasName}.bias`, [H], w(`${torchName}.dense.bias`, [H]).data);
  const gamma = b.initializer(`${normName}.weight`, [H], w(`${torchName}.LayerNorm.weight`, [H]).data);
  const beta = b.initializer(`${normName}.bias`, [H], w(`${torchName}.LayerNorm.bias`, [H]).data);
  if (graph.tuning.residualNorm === 'skip') {
    b.node('SkipLayerNormalization', [y, residual, gamma, beta, bias], [out], { epsilon: { float: eps } }, MS_DOMAIN);
  } else {
    b.node('Add', [y, bias], [`${out}_biased`]);
    b.node('Add', [`${out}_biased`, residual], [`${out}_sum`]);
    b.layerNorm(`${out}_sum`, gamma, beta, out, eps);
  }
}

/** The feed-forward activation with its bias folded in: BiasGelu (erf), FastGelu (tanh, HF's gelu_new) or Relu. */
function biasActivation(b: GraphBuilder, act: string, x: string, bias: string, out: string, n: string): void {
  if (act === 'gelu') b.node('BiasGelu', [x, bias], [out], {}, MS_DOMAIN);
  else if (act === 'relu') {
    b.node('Add', [x, bias], [`${n}_ffn1_biased`]);
    b.node('Relu', [`${n}_ffn1_biased`], [out]);
  } else b.node('FastGelu', [x, bias], [out], {}, MS_DOMAIN);
}

/** One post-norm transformer layer; returns `out`. */
export function encoderLayer(graph: BertGraph, x: string, l: number, out: string): string {
  const { b, w, config } = graph;
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const p = `encoder.layer.${l}`;
  const n = `l${l}`;
  const attn = selfAttention(graph, x, p, n);
  const ao = b.linear(attn, `${n}.attn_out`, w(`${p}.attention.output.dense.weight`, [H, H]).data, H, H);
  const x1 = `${n}_attn_ln`;
  addNorm(graph, ao, x, `${p}.attention.output`, `${n}.attn_out`, `${n}.attn_ln`, x1);

  const f1 = b.linear(x1, `${n}.ffn1`, w(`${p}.intermediate.dense.weight`, [I, H]).data, I, H);
  const b1 = b.initializer(`${n}.ffn1.bias`, [I], w(`${p}.intermediate.dense.bias`, [I]).data);
  biasActivation(b, config.hidden_act ?? 'gelu', f1, b1, `${n}_act`, n);
  const f2 = b.linear(`${n}_act`, `${n}.ffn2`, w(`${p}.output.dense.weight`, [H, I]).data, H, I);
  addNorm(graph, f2, x1, `${p}.output`, `${n}.ffn2`, `${n}.ffn_ln`, out);
  return out;
}

/** BertForSequenceClassification's pooler (tanh of the [CLS] vector) and classifier; returns the label count. */
function classifierHead({ b, w, config }: BertGraph, weights: TensorMap, x: string): number {
  const H = config.hidden_size;
  const L = numLabels(config);
  firstTokenHead(b, x, H, L, {
    dense: { name: 'pooler', weight: w('pooler.dense.weight', [H, H]).data, bias: w('pooler.dense.bias', [H]).data },
    out: { name: 'classifier', weight: getTensor(weights, 'classifier.weight', [L, H]).data, bias: getTensor(weights, 'classifier.bias', [L]).data },
  });
  return L;
}

interface HeadLayer {
  /** Initializer names are `<name>.weight` and `<name>.bias`. */
  name: string;
  weight: Float32Array;
  bias: Float32Array;
}

/**
 * The first token's vector through a dense layer and tanh, then the output layer, into `logits`: BERT's pooler and
 * classifier, and RoBERTa's classification head, are this one shape. It runs on one vector per sequence, so it stays
 * fp32 even in int8 models.
 */
export function firstTokenHead(b: GraphBuilder, x: string, H: number, L: number, layers: { dense: HeadLayer; out: HeadLayer }): void {
  const { dense, out } = layers;
  b.initializer(`${dense.name}.weight`, [H, H], dense.weight);
  b.initializer(`${dense.name}.bias`, [H], dense.bias);
  b.initializer(`${out.name}.weight`, [L, H], out.weight);
  b.initializer(`${out.name}.bias`, [L], out.bias);
  b.initializer('cls_index', [], BigInt64Array.of(0n));
  b.node('Gather', [x, 'cls_index'], ['cls_hidden'], { axis: 1 });
  b.node('Gemm', ['cls_hidden', `${dense.name}.weight`, `${dense.name}.bias`], ['pooled_linear'], { transB: 1 });
  b.node('Tanh', ['pooled_linear'], ['pooled']);
  b.node('Gemm', ['pooled', `${out.name}.weight`, `${out.name}.bias`], ['logits'], { transB: 1 });
}

export function buildBertOnnx(
  config: BertConfig,
  weights: TensorMap,
  options: BertOnnxOptions,
  tuning: BertGraphTuning = {},
): Uint8Array {
  checkConfig(config);
  checkDtype(options.dtype);
  if (options.head !== 'none' && options.head !== 'sequence-classification') {
    throw new ModelInvalidError(`onnx: unknown head "${options.head as string}"`);
  }
  const graph: BertGraph = {
    b: new GraphBuilder(options.dtype),
    w: weightGetter(weights),
    config,
    eps: config.layer_norm_eps ?? 1e-12,
    tuning: {
      fp32Attention: tuning.fp32Attention ?? DEFAULT_TUNING.fp32Attention,
      int8Attention: tuning.int8Attention ?? DEFAULT_TUNING.int8Attention,
      residualNorm: tuning.residualNorm ?? DEFAULT_TUNING.residualNorm,
    },
  };
  const { b } = graph;
  let x = embeddings(graph);
  // Contrib attention ops take the 0/1 padding mask as int32 and apply a large negative to masked keys, like HF.
  b.node('Cast', ['attention_mask'], ['mask_i32'], { to: DataType.INT32 });
  const layers = config.num_hidden_layers;
  for (let l = 0; l < layers; l++) {
    const last = l === layers - 1 && options.head === 'none';
    x = encoderLayer(graph, x, l, last ? 'last_hidden_state' : `l${l}_out`);
  }

  const H = config.hidden_size;
  const outputs = options.head === 'sequence-classification'
    ? [{ name: 'logits', dims: [BATCH_AXIS, classifierHead(graph, weights, x)] }]
    : [{ name: 'last_hidden_state', dims: [BATCH_AXIS, SEQUENCE_AXIS, H] }];
  return b.serialize({
    graphName: `rankwise_bert_${options.head}_${options.dtype}`,
    tokenInputs: ['input_ids', 'attention_mask', 'token_type_ids'],
    outputs,
    metadata: { rankwise_head: options.head, rankwise_dtype: options.dtype },
  });
}

/** Writes the graph atomically (temporary file, then rename), so a reader never sees a half-written model. */
export async function writeBertOnnx(path: string, config: BertConfig, weights: TensorMap, options: BertOnnxOptions): Promise<void> {
  await writeFileAtomic(path, buildBertOnnx(config, weights, options));
}
