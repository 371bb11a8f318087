/** BERT and its exports (MiniLM, ColBERT checkpoints, sentence-transformers encoders): the `bert` model_type. */
import { headOf, validateBertConfig, type BertConfig } from '../config.js';
import type { ModelFamily } from '../family.js';
import { writeBertOnnx } from './graph.js';
import { addClassifier, ONE_LABEL, seededNormal } from '../new-head.js';
import type { TensorMap } from '../tensors.js';
import { PairTokenizer } from '../tokenizer/index.js';
import { recordedPooling, writeSentenceTransformersFiles } from './sentence-transformers.js';
import { bertTorchLayout } from './torch-layout.js';

export const bertFamily: ModelFamily = {
  name: 'BERT',
  modelTypes: ['bert'],
  validateConfig: validateBertConfig,
  headOf: (config) => headOf(config as BertConfig),
  loadTokenizer: (dir) => PairTokenizer.fromFolder(dir),
  writeOnnx: (path, config, weights, options) => writeBertOnnx(path, config as BertConfig, weights, options),
  weightsMetadata: { format: 'pt' },
  async writeExtraFiles(dir, config, head, pooling) {
    if (head === 'none') await writeSentenceTransformersFiles(dir, config.hidden_size, pooling);
  },
  // Imported on use: the runtime class resolves folders itself, and a static import would make a cycle with the registry.
  async loadSentenceEncoder(folder, options) {
    const { BiEncoder } = await import('../bi-encoder.js');
    return BiEncoder.fromFolder(folder, options);
  },
  retarget(config, weights, head, seed) {
    const bert = config as BertConfig;
    if (headOf(bert) === head) return { config, weights };
    return head === 'sequence-classification' ? asCrossEncoder(bert, weights, seed) : asEncoder(bert, weights);
  },
  pooling: recordedPooling,
  torchLayout: (config, head, pooling) => bertTorchLayout(config as BertConfig, head, pooling),
};

/** A fresh, seeded pooler and classifier on an encoder, as sentence-transformers does. */
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

/** A cross-encoder's encoder: the classifier dropped, the `bert.` prefix removed. */
function asEncoder(config: BertConfig, classifier: TensorMap): { config: BertConfig; weights: TensorMap } {
  const weights: TensorMap = new Map();
  for (const [name, t] of classifier) {
    if (name.startsWith('classifier.')) continue;
    weights.set(name.replace(/^bert\./, ''), t);
  }
  const { id2label: _a, label2id: _b, sentence_transformers: _c, ...rest } = config;
  return { config: { ...rest, architectures: ['BertModel'] }, weights };
}
