import { join } from 'node:path';
import { headOf, type BertConfig, type ModelHead } from '../models/config.js';
import { recordedPooling, type Pooling } from '../models/bi-encoder.js';
import { fetchHubFile, isHubId, type HubOptions } from '../models/hub.js';
import { exists } from '../util/fs.js';
import { resolveModel } from '../models/model-folder.js';
import { SeededRandom } from '../models/random.js';
import { readSafetensorsFile } from '../models/safetensors.js';
import type { TensorMap } from '../models/tensors.js';
import { PairTokenizer } from '../models/tokenizer.js';
import type { LossTarget } from './losses/loss.js';

/** A base model's weights, ready to train for a target: its config and weights reshaped for the head it needs. */
export interface TrainableModel {
  name: string;
  /** The base folder; tokenizer files are copied from it into the trained model. */
  dir: string;
  config: BertConfig;
  head: ModelHead;
  weights: TensorMap;
  tokenizer: PairTokenizer;
  pooling: Pooling;
}

const HEAD_FOR: Record<LossTarget, ModelHead> = { 'cross-encoder': 'sequence-classification', 'bi-encoder': 'none' };

/**
 * Loads a base model's safetensors weights for training. A plain encoder can become a cross-encoder (a fresh,
 * seeded pooler and classifier are added, as sentence-transformers does) and a cross-encoder can become a
 * bi-encoder (its classifier is dropped).
 */
export async function loadTrainableModel(base: string, target: LossTarget, seed: number, hub: HubOptions = {}): Promise<TrainableModel> {
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
  const rng = new SeededRandom(seed);
  const normal = (n: number) => Float32Array.from({ length: n }, () => rng.normal(0, 0.02));
  if (!weights.has('bert.pooler.dense.weight')) {
    weights.set('bert.pooler.dense.weight', { shape: [H, H], data: normal(H * H) });
    weights.set('bert.pooler.dense.bias', { shape: [H], data: new Float32Array(H) });
  }
  weights.set('classifier.weight', { shape: [1, H], data: normal(H) });
  weights.set('classifier.bias', { shape: [1], data: new Float32Array(1) });
  const { id2label: _a, label2id: _b, ...rest } = config;
  return {
    config: { ...rest, architectures: ['BertForSequenceClassification'], id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 } },
    weights,
  };
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
