/**
 * The ONNX graph of a RoBERTa / XLM-RoBERTa encoder, optionally with RobertaForSequenceClassification's head, written
 * from Hugging Face weights (`roberta.`-prefixed or bare). The transformer layers are BERT's (src/models/bert/graph.ts,
 * same fused contrib ops, fp32 or int8); what differs is here:
 * - positions come from the ids, as Hugging Face's create_position_ids_from_input_ids numbers them: non-padding
 *   tokens get `pad_token_id + 1 + (how many non-padding tokens precede them)`, padding gets `pad_token_id`;
 * - the head reads the first token's state through `classifier.dense`, tanh and `classifier.out_proj`
 *   (RobertaClassificationHead) instead of BERT's pooler and classifier.
 */
import { writeFileAtomic } from '../../util/atomic-write.js';
import { ModelInvalidError } from '../../errors.js';
import { DEFAULT_TUNING, encoderLayer, firstTokenHead, weightGetter, type BertGraph } from '../bert/graph.js';
import { numLabels, type ModelHead } from '../config.js';
import { BATCH_AXIS, checkDtype, GraphBuilder, SEQUENCE_AXIS, type OnnxDtype } from '../onnx/graph-builder.js';
import { DataType } from '../onnx/proto.js';
import { getTensor, type TensorMap } from '../tensors.js';
import type { RobertaConfig } from './config.js';

export interface RobertaOnnxOptions {
  head: ModelHead;
  dtype: OnnxDtype;
}

/** Word + token type + position embeddings, then LayerNorm; returns the layer-0 input. */
function embeddings({ b, w, config, eps }: BertGraph, padTokenId: number): string {
  const H = config.hidden_size;
  const P = config.max_position_embeddings;
  b.initializer('word_embeddings', [config.vocab_size, H], w('embeddings.word_embeddings.weight', [config.vocab_size, H]).data);
  b.initializer('position_embeddings', [P, H], w('embeddings.position_embeddings.weight', [P, H]).data);
  b.initializer('token_type_embeddings', [config.type_vocab_size, H], w('embeddings.token_type_embeddings.weight', [config.type_vocab_size, H]).data);
  b.initializer('emb_ln.weight', [H], w('embeddings.LayerNorm.weight', [H]).data);
  b.initializer('emb_ln.bias', [H], w('embeddings.LayerNorm.bias', [H]).data);
  b.node('Gather', ['word_embeddings', 'input_ids'], ['word_emb']);
  b.node('Gather', ['token_type_embeddings', 'token_type_ids'], ['type_emb']);

  // (cumsum(ids != pad) * (ids != pad)) + pad, over the sequence axis; the mask is by id, not attention_mask, as in HF.
  b.initializer('pad_token_id', [], BigInt64Array.of(BigInt(padTokenId)));
  b.initializer('sequence_axis', [], BigInt64Array.of(1n));
  b.node('Equal', ['input_ids', 'pad_token_id'], ['is_pad']);
  b.node('Not', ['is_pad'], ['not_pad']);
  b.node('Cast', ['not_pad'], ['not_pad_i64'], { to: DataType.INT64 });
  b.node('CumSum', ['not_pad_i64', 'sequence_axis'], ['non_pad_count']);
  b.node('Mul', ['non_pad_count', 'not_pad_i64'], ['position_offsets']);
  b.node('Add', ['position_offsets', 'pad_token_id'], ['position_ids']);
  b.node('Gather', ['position_embeddings', 'position_ids'], ['pos_emb']);

  b.node('Add', ['word_emb', 'type_emb'], ['wt_emb']);
  b.node('Add', ['wt_emb', 'pos_emb'], ['emb_sum']);
  return b.layerNorm('emb_sum', 'emb_ln.weight', 'emb_ln.bias', 'hidden_0', eps);
}

/** RobertaClassificationHead on the first token (`<s>`); returns the label count. Stays fp32 in int8 graphs. */
function classifierHead({ b, config }: BertGraph, weights: TensorMap, x: string): number {
  const H = config.hidden_size;
  const L = numLabels(config);
  const layer = (name: string, rows: number) => ({
    name,
    weight: getTensor(weights, `${name}.weight`, [rows, H]).data,
    bias: getTensor(weights, `${name}.bias`, [rows]).data,
  });
  firstTokenHead(b, x, H, L, { dense: layer('classifier.dense', H), out: layer('classifier.out_proj', L) });
  return L;
}

export function buildRobertaOnnx(config: RobertaConfig, weights: TensorMap, options: RobertaOnnxOptions): Uint8Array {
  checkDtype(options.dtype);
  if (options.head !== 'none' && options.head !== 'sequence-classification') {
    throw new ModelInvalidError(`onnx: unknown head "${options.head as string}"`);
  }
  const graph: BertGraph = {
    b: new GraphBuilder(options.dtype),
    w: weightGetter(weights, 'roberta'),
    config,
    eps: config.layer_norm_eps,
    tuning: DEFAULT_TUNING,
  };
  const { b } = graph;
  let x = embeddings(graph, config.pad_token_id);
  b.node('Cast', ['attention_mask'], ['mask_i32'], { to: DataType.INT32 });
  const layers = config.num_hidden_layers;
  for (let l = 0; l < layers; l++) {
    const last = l === layers - 1 && options.head === 'none';
    x = encoderLayer(graph, x, l, last ? 'last_hidden_state' : `l${l}_out`);
  }
  const outputs = options.head === 'sequence-classification'
    ? [{ name: 'logits', dims: [BATCH_AXIS, classifierHead(graph, weights, x)] }]
    : [{ name: 'last_hidden_state', dims: [BATCH_AXIS, SEQUENCE_AXIS, config.hidden_size] }];
  return b.serialize({
    graphName: `rankwise_roberta_${options.head}_${options.dtype}`,
    // token_type_ids is an input, as in BERT graphs, so one runtime feeds every family; RoBERTa's are all 0.
    tokenInputs: ['input_ids', 'attention_mask', 'token_type_ids'],
    outputs,
    metadata: { rankwise_head: options.head, rankwise_dtype: options.dtype, rankwise_model_type: config.model_type },
  });
}

/** Writes the graph atomically (temporary file, then rename), so a reader never sees a half-written model. */
export async function writeRobertaOnnx(path: string, config: RobertaConfig, weights: TensorMap, options: RobertaOnnxOptions): Promise<void> {
  await writeFileAtomic(path, buildRobertaOnnx(config, weights, options));
}
