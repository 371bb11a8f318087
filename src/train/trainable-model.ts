import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { headOf, type BertConfig, type ModelHead } from '../models/config.js';
import { recordedPooling, type Pooling } from '../models/bi-encoder.js';
import { fetchHubFile, isHubId, type HubOptions } from '../models/hub.js';
import { exists } from '../util/fs.js';
import { resolveModel } from '../models/model-folder.js';
import { SeededRandom } from '../models/random.js';
import { readSafetensorsFile } from '../models/safetensors.js';
import type { TensorMap } from '../models/tensors.js';
import { PairTokenizer, type SequenceTokenizer } from '../models/tokenizer.js';
import { builtInUseLiteFolder, isUseLiteFolder } from '../models/use-lite/builtin.js';
import type { UseLiteConfig } from '../models/use-lite/graph.js';
import { UseLitePairTokenizer } from '../models/use-lite/pair-tokenizer.js';
import type { LossTarget } from './losses/loss.js';

/** A base model's weights, ready to train for a target: its config and weights reshaped for the head it needs. */
export interface TrainableModel {
  name: string;
  /** The base folder; tokenizer files are copied from it into the trained model. */
  dir: string;
  config: BertConfig | UseLiteConfig;
  head: ModelHead;
  weights: TensorMap;
  tokenizer: SequenceTokenizer;
  pooling: Pooling;
}

const HEAD_FOR: Record<LossTarget, ModelHead> = { 'cross-encoder': 'sequence-classification', 'bi-encoder': 'none' };

/**
 * Loads a base model's safetensors weights for training. A plain encoder can become a cross-encoder (a fresh,
 * seeded pooler and classifier are added, as sentence-transformers does) and a cross-encoder can become a
 * bi-encoder (its classifier is dropped).
 */
export async function loadTrainableModel(base: string, target: LossTarget, seed: number, hub: HubOptions = {}): Promise<TrainableModel> {
  if (base === 'use-lite') return loadUseLite(base, await builtInUseLiteFolder(), target, seed);
  if (await isUseLiteFolder(base)) return loadUseLite(base, base, target, seed);
  const folder = await resolveModel(base, hub);
  const weightsPath = join(folder.dir, 'model.safetensors');
  if (!(await exists(weightsPath)) && !(isHubId(base) && (await fetchHubFile(base, 'model.safetensors', hub)))) {
    throw new Error(`model "${base}": ${weightsPath} is missing; training needs the weights (an ONNX file cannot be trained)`);
  }
  const { tensors } = await readSafetensorsFile(weightsPath);
  // Buffers such as position_ids are not parameters.
  for (const name of [...tensors.keys()]) if (name.endsWith('position_ids')) tensors.delete(name);
  const tokenizer = await PairTokenizer.fromFolder(folder.dir);
  const pooling = await recordedPooling(folder.dir);
  const head = HEAD_FOR[target];
  const from = headOf(folder.config);
  if (from === head) return { name: base, dir: folder.dir, config: folder.config, head, weights: tensors, tokenizer, pooling };
  return head === 'sequence-classification'
    ? { name: base, dir: folder.dir, ...asCrossEncoder(folder.config, tensors, seed), head, tokenizer, pooling }
    : { name: base, dir: folder.dir, ...asEncoder(folder.config, tensors), head, tokenizer, pooling };
}

function asCrossEncoder(config: BertConfig, encoder: TensorMap, seed: number): { config: BertConfig; weights: TensorMap } {
  const weights: TensorMap = new Map();
  for (const [name, t] of encoder) weights.set(name.startsWith('bert.') ? name : `bert.${name}`, t);
  const H = config.hidden_size;
  const normal = seededNormal(seed);
  if (!weights.has('bert.pooler.dense.weight')) {
    weights.set('bert.pooler.dense.weight', { shape: [H, H], data: normal(H * H) });
    weights.set('bert.pooler.dense.bias', { shape: [H], data: new Float32Array(H) });
  }
  addClassifier(weights, H, normal);
  const { id2label: _a, label2id: _b, ...rest } = config;
  return { config: { ...rest, architectures: ['BertForSequenceClassification'], ...ONE_LABEL }, weights };
}

const ONE_LABEL = { id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 } };

/** N(0, 0.02) draws, as Hugging Face initialises a new head. */
function seededNormal(seed: number): (n: number) => Float32Array {
  const rng = new SeededRandom(seed);
  return (n) => Float32Array.from({ length: n }, () => rng.normal(0, 0.02));
}

/** A fresh one-logit classifier reading a `hidden`-wide pooled vector. */
function addClassifier(weights: TensorMap, hidden: number, normal: (n: number) => Float32Array): void {
  weights.set('classifier.weight', { shape: [1, hidden], data: normal(hidden) });
  weights.set('classifier.bias', { shape: [1], data: new Float32Array(1) });
}

const USE_LITE_CROSS_ONLY = ['embeddings.token_type_embeddings.weight', 'classifier.weight', 'classifier.bias'];

/**
 * USE Lite as a bi-encoder (its pretrained form) or as the backbone of a cross-encoder: the pair's segment embedding
 * starts at zero, so before training the cross-encoder's encoder computes exactly the pretrained model's states for
 * `<s> query </s> document </s>`, and only the classifier is new.
 */
async function loadUseLite(name: string, dir: string, target: LossTarget, seed: number): Promise<TrainableModel> {
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as UseLiteConfig;
  const { tensors } = await readSafetensorsFile(join(dir, 'model.safetensors'));
  const tokenizer = await UseLitePairTokenizer.load(join(dir, 'tokenizer.json'));
  const head = HEAD_FOR[target];
  const isCross = headOf(config as unknown as BertConfig) === 'sequence-classification';
  const { architectures: _a, type_vocab_size: _t, id2label: _i, label2id: _l, ...encoderConfig } = config;
  if (head === 'sequence-classification' && !isCross) {
    const types = 2;
    tensors.set('embeddings.token_type_embeddings.weight', { shape: [types, config.embedding_size], data: new Float32Array(types * config.embedding_size) });
    addClassifier(tensors, config.hidden_size, seededNormal(seed));
    return {
      name, dir, head, tokenizer, pooling: 'mean', weights: tensors,
      config: { ...encoderConfig, architectures: ['UseLiteForSequenceClassification'], type_vocab_size: types, ...ONE_LABEL },
    };
  }
  if (head === 'none' && isCross) {
    for (const key of USE_LITE_CROSS_ONLY) tensors.delete(key);
    return { name, dir, head, tokenizer, pooling: 'mean', weights: tensors, config: { ...encoderConfig, architectures: ['UseLiteEncoder'] } };
  }
  return { name, dir, head, tokenizer, pooling: 'mean', weights: tensors, config };
}

function asEncoder(config: BertConfig, classifier: TensorMap): { config: BertConfig; weights: TensorMap } {
  const weights: TensorMap = new Map();
  for (const [name, t] of classifier) {
    if (name.startsWith('classifier.')) continue;
    weights.set(name.replace(/^bert\./, ''), t);
  }
  const { id2label: _a, label2id: _b, sentence_transformers: _c, ...rest } = config;
  return { config: { ...rest, architectures: ['BertModel'] }, weights };
}
