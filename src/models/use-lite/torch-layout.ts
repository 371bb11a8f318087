/** What libtorch trains for USE Lite (mirrors UseLite::parameterLayout in native/src/use_lite.cpp). */
import type { ModelHead } from '../config.js';
import type { TorchLayout } from '../family.js';
import type { UseLiteConfig } from './graph.js';
import { InputError, ModelInvalidError } from '../../errors.js';

/** The timing signal's inverse timescales: a fixed constant of the graph, passed to the engine but never trained. */
const TIMING = 'embeddings.timing_inv_timescales';

/** The trainable tensors, torch Linear layout [out, in]. */
function parameterShapes(config: UseLiteConfig, cross?: { types: number; labels: number }): Map<string, number[]> {
  const E = config.embedding_size;
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const shapes = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [config.vocab_size, E]],
    ['pooler.dense.weight', [H, H]],
    ['pooler.dense.bias', [H]],
    ['encoder.layer.0.residual_projection.weight', [H, E]],
    ['encoder.layer.0.residual_projection.bias', [H]],
  ]);
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    const inp = l === 0 ? E : H;
    shapes.set(`${p}.attention.norm.weight`, [inp]);
    shapes.set(`${p}.attention.norm.bias`, [inp]);
    shapes.set(`${p}.attention.qkv.weight`, [3 * inp, inp]);
    shapes.set(`${p}.attention.qkv.bias`, [3 * inp]);
    shapes.set(`${p}.attention.output.weight`, [H, inp]);
    shapes.set(`${p}.attention.output.bias`, [H]);
    shapes.set(`${p}.ffn.norm.weight`, [H]);
    shapes.set(`${p}.ffn.norm.bias`, [H]);
    shapes.set(`${p}.ffn.dense1.weight`, [I, H]);
    shapes.set(`${p}.ffn.dense1.bias`, [I]);
    shapes.set(`${p}.ffn.dense2.weight`, [H, I]);
    shapes.set(`${p}.ffn.dense2.bias`, [H]);
  }
  if (cross) {
    shapes.set('embeddings.token_type_embeddings.weight', [cross.types, E]);
    shapes.set('classifier.weight', [cross.labels, H]);
    shapes.set('classifier.bias', [cross.labels]);
  }
  return shapes;
}

/** Throws, naming `source` and the field, unless the config describes a buildable USE Lite. */
export function checkUseLiteConfig(config: UseLiteConfig, source = 'config'): void {
  for (const k of ['vocab_size', 'embedding_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size',
    'max_position_embeddings'] as const) {
    const v = config[k];
    if (!Number.isInteger(v) || v < 1) throw new ModelInvalidError(`${source}: "${k}" must be a positive integer, got ${v}`);
  }
  if (config.embedding_size % config.num_attention_heads !== 0 || config.hidden_size % config.num_attention_heads !== 0) {
    throw new ModelInvalidError(`${source}: embedding_size ${config.embedding_size} and hidden_size ${config.hidden_size} must be divisible by num_attention_heads ${config.num_attention_heads}`);
  }
  if (config.embedding_size % 2 !== 0) throw new ModelInvalidError(`${source}: embedding_size ${config.embedding_size} must be even (sin and cos halves of the timing signal)`);
  for (const k of ['layer_norm_eps', 'embedding_multiplier'] as const) {
    const v = config[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v))) throw new InputError(`${source}: "${k}" must be a finite number, got ${JSON.stringify(v)}`);
  }
}

/**
 * As a bi-encoder, forward gives the graph's `sentence_embedding` (masked mean, tanh dense, L2 norm). As a
 * cross-encoder it also needs `embeddings.token_type_embeddings.weight` [type_vocab_size, embedding_size], added to
 * the first layer's input (zeros keep the pretrained encoder), and `classifier.*` reading the tanh-pooled vector
 * before the L2 norm; the package has neither, so retarget() initialises them.
 */
export function useLiteTorchLayout(config: UseLiteConfig, head: ModelHead, pooling: 'mean' | 'cls' | undefined): TorchLayout {
  if (pooling !== undefined && pooling !== 'mean') {
    throw new InputError(`pooling: use-lite always pools by masked mean, tanh dense and L2 norm, got ${JSON.stringify(pooling)}`);
  }
  checkUseLiteConfig(config);
  const cross = head === 'sequence-classification'
    ? { types: config.type_vocab_size ?? 2, labels: config.id2label ? Object.keys(config.id2label).length : (config as { num_labels?: number }).num_labels ?? 1 }
    : undefined;
  if (cross && !(Number.isInteger(cross.types) && cross.types >= 1 && Number.isInteger(cross.labels) && cross.labels >= 1)) {
    throw new ModelInvalidError(`config: a use-lite cross-encoder needs positive integer type_vocab_size and num_labels, got ${cross.types} and ${cross.labels}`);
  }
  const parameters = [...parameterShapes(config, cross)].map(([name, shape]) => ({ name, shape, spelled: [name] }));
  const spec = {
    architecture: 'use-lite',
    vocabSize: config.vocab_size,
    embeddingSize: config.embedding_size,
    hiddenSize: config.hidden_size,
    numLayers: config.num_hidden_layers,
    numHeads: config.num_attention_heads,
    intermediateSize: config.intermediate_size,
    maxPositions: config.max_position_embeddings,
    layerNormEps: config.layer_norm_eps ?? 1e-6,
    embeddingMultiplier: config.embedding_multiplier ?? 2,
    typeVocabSize: cross?.types ?? 1,
    numLabels: cross?.labels ?? 1,
  };
  return { parameters, fixed: [{ name: TIMING, shape: [config.embedding_size / 2] }], labels: cross?.labels ?? 1, spec };
}
