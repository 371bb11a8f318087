/** What libtorch trains for a BERT config (mirrors native/src/bert.cpp): parameter shapes in torch layout and the model spec. */
import { numLabels, type BertConfig, type ModelHead } from '../config.js';
import type { TorchLayout } from '../family.js';
import { InputError, ModelInvalidError } from '../../errors.js';

function parameterShapes(config: BertConfig, head: ModelHead): Map<string, number[]> {
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const shapes = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [config.vocab_size, H]],
    ['embeddings.position_embeddings.weight', [config.max_position_embeddings, H]],
    ['embeddings.token_type_embeddings.weight', [config.type_vocab_size, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ]);
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const part of ['query', 'key', 'value']) {
      shapes.set(`${p}.attention.self.${part}.weight`, [H, H]);
      shapes.set(`${p}.attention.self.${part}.bias`, [H]);
    }
    shapes.set(`${p}.attention.output.dense.weight`, [H, H]);
    shapes.set(`${p}.attention.output.dense.bias`, [H]);
    shapes.set(`${p}.attention.output.LayerNorm.weight`, [H]);
    shapes.set(`${p}.attention.output.LayerNorm.bias`, [H]);
    shapes.set(`${p}.intermediate.dense.weight`, [I, H]);
    shapes.set(`${p}.intermediate.dense.bias`, [I]);
    shapes.set(`${p}.output.dense.weight`, [H, I]);
    shapes.set(`${p}.output.dense.bias`, [H]);
    shapes.set(`${p}.output.LayerNorm.weight`, [H]);
    shapes.set(`${p}.output.LayerNorm.bias`, [H]);
  }
  // An encoder's pooler is not used by mean/CLS pooling, so it is carried through untouched rather than trained.
  if (head === 'sequence-classification') {
    const L = numLabels(config);
    shapes.set('pooler.dense.weight', [H, H]);
    shapes.set('pooler.dense.bias', [H]);
    shapes.set('classifier.weight', [L, H]);
    shapes.set('classifier.bias', [L]);
  }
  return shapes;
}

function checkConfig(config: BertConfig): void {
  for (const k of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size',
    'max_position_embeddings', 'type_vocab_size'] as const) {
    const v = config[k];
    if (!Number.isInteger(v) || v < (k === 'num_hidden_layers' ? 0 : 1)) throw new ModelInvalidError(`config: "${k}" must be a positive integer, got ${v}`);
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new ModelInvalidError(`config: hidden_size ${config.hidden_size} is not divisible by num_attention_heads ${config.num_attention_heads}`);
  }
  const act = config.hidden_act ?? 'gelu';
  if (!['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'].includes(act)) {
    throw new ModelInvalidError(`config: hidden_act "${act}" is not supported (gelu, gelu_new, relu)`);
  }
}

function probability(config: BertConfig, key: string, fallback: number): number {
  const v = config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new ModelInvalidError(`config: "${key}" must be a probability in [0, 1), got ${JSON.stringify(v)}`);
  return v;
}

export function bertTorchLayout(config: BertConfig, head: ModelHead, requestedPooling: 'mean' | 'cls' | undefined): TorchLayout {
  checkConfig(config);
  const pooling = requestedPooling ?? 'mean';
  if (pooling !== 'mean' && pooling !== 'cls') throw new InputError(`pooling: expected "mean" or "cls", got ${JSON.stringify(pooling)}`);
  const labels = head === 'sequence-classification' ? numLabels(config) : 1;
  // Absent means HF BertConfig's default 0; an explicit null means no padding row.
  const rawPad = (config as { pad_token_id?: number | null }).pad_token_id;
  const padTokenId = rawPad === undefined ? 0 : rawPad === null ? -1 : rawPad;
  if (!Number.isInteger(padTokenId) || padTokenId >= config.vocab_size) throw new ModelInvalidError(`config: pad_token_id ${padTokenId} is not a token id`);
  const parameters = [...parameterShapes(config, head)].map(([name, shape]) => ({
    name,
    shape,
    // As the ONNX writer does: encoder tensors under either spelling, the classifier only bare.
    spelled: name.startsWith('classifier.') ? [name] : [`bert.${name}`, name],
  }));
  const spec = {
    vocabSize: config.vocab_size,
    hiddenSize: config.hidden_size,
    numLayers: config.num_hidden_layers,
    numHeads: config.num_attention_heads,
    intermediateSize: config.intermediate_size,
    maxPositions: config.max_position_embeddings,
    typeVocabSize: config.type_vocab_size,
    numLabels: labels,
    padTokenId: padTokenId < 0 ? -1 : padTokenId,
    layerNormEps: config.layer_norm_eps ?? 1e-12,
    activation: config.hidden_act ?? 'gelu',
    hiddenDropout: probability(config, 'hidden_dropout_prob', 0.1),
    attentionDropout: probability(config, 'attention_probs_dropout_prob', 0.1),
    // HF: classifier_dropout when set, else hidden_dropout_prob.
    classifierDropout: probability(config, 'classifier_dropout', probability(config, 'hidden_dropout_prob', 0.1)),
    pooling,
  };
  return { parameters, fixed: [], labels, spec };
}
