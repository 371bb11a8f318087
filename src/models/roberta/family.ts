/**
 * RoBERTa and XLM-RoBERTa (`roberta`, `xlm-roberta`): the bge-reranker / mxbai / jina-v1-style cross-encoders and the
 * multilingual encoders built on them. BERT's transformer with RoBERTa's positions, tokenizers and head.
 */
import { BackendUnavailableError } from '../../errors.js';
import { bertFamily } from '../bert/family.js';
import { recordedPooling } from '../bert/sentence-transformers.js';
import { headOf, type ModelHead } from '../config.js';
import type { FamilyConfig, ModelFamily } from '../family.js';
import { ONE_LABEL, seededNormal } from '../new-head.js';
import type { TensorMap } from '../tensors.js';
import { validateRobertaConfig, type RobertaConfig } from './config.js';
import { writeRobertaOnnx } from './graph.js';
import { RobertaTokenizer } from './tokenizer.js';

/** Hugging Face's class names, by model_type: [plain encoder, sequence classifier]. */
const ARCHITECTURES: Record<string, [string, string]> = {
  roberta: ['RobertaModel', 'RobertaForSequenceClassification'],
  'xlm-roberta': ['XLMRobertaModel', 'XLMRobertaForSequenceClassification'],
};

const asRoberta = (config: FamilyConfig, source = 'config'): RobertaConfig => validateRobertaConfig(config, source);

export const robertaFamily: ModelFamily = {
  name: 'RoBERTa',
  modelTypes: Object.keys(ARCHITECTURES),
  validateConfig: validateRobertaConfig,
  headOf: (config) => headOf(asRoberta(config)),
  loadTokenizer: (dir) => RobertaTokenizer.fromFolder(dir),
  writeOnnx: (path, config, weights, options) => writeRobertaOnnx(path, asRoberta(config), weights, options),
  weightsMetadata: { format: 'pt' },
  // The same sentence-transformers files, and the BERT runtime serves any encoder whose tokenizer marks its sequences.
  writeExtraFiles: bertFamily.writeExtraFiles,
  loadSentenceEncoder: bertFamily.loadSentenceEncoder,
  retarget(config, weights, head, seed) {
    const roberta = asRoberta(config);
    if (headOf(roberta) === head) return { config, weights };
    return head === 'sequence-classification' ? asCrossEncoder(roberta, weights, seed) : asEncoder(roberta, weights);
  },
  pooling: recordedPooling,
  torchLayout() {
    throw new BackendUnavailableError(
      'training RoBERTa is not supported yet: the libtorch engine has only the BERT and USE Lite models; ' +
        'RoBERTa / XLM-RoBERTa models can be loaded, scored and exported',
    );
  },
};

function architecture(config: RobertaConfig, head: ModelHead): string[] {
  const [encoder, classifier] = ARCHITECTURES[config.model_type] ?? ARCHITECTURES.roberta;
  return [head === 'sequence-classification' ? classifier : encoder];
}

/**
 * A fresh, seeded RobertaClassificationHead on an encoder, as transformers initialises one. The encoder's pooler is
 * dropped: RobertaForSequenceClassification has none, so Hugging Face would report it as an unused weight.
 */
function asCrossEncoder(config: RobertaConfig, encoder: TensorMap, seed: number): { config: RobertaConfig; weights: TensorMap } {
  const weights: TensorMap = new Map();
  for (const [name, t] of encoder) {
    const bare = name.replace(/^roberta\./, '');
    if (!bare.startsWith('pooler.')) weights.set(`roberta.${bare}`, t);
  }
  const H = config.hidden_size;
  const normal = seededNormal(seed);
  weights.set('classifier.dense.weight', { shape: [H, H], data: normal(H * H) });
  weights.set('classifier.dense.bias', { shape: [H], data: new Float32Array(H) });
  weights.set('classifier.out_proj.weight', { shape: [1, H], data: normal(H) });
  weights.set('classifier.out_proj.bias', { shape: [1], data: new Float32Array(1) });
  const { id2label: _a, label2id: _b, num_labels: _c, ...rest } = config;
  return { config: { ...rest, architectures: architecture(config, 'sequence-classification'), ...ONE_LABEL }, weights };
}

/** A cross-encoder's encoder: the classifier dropped, the `roberta.` prefix removed. */
function asEncoder(config: RobertaConfig, classifier: TensorMap): { config: RobertaConfig; weights: TensorMap } {
  const weights: TensorMap = new Map();
  for (const [name, t] of classifier) {
    if (!name.startsWith('classifier.')) weights.set(name.replace(/^roberta\./, ''), t);
  }
  const { id2label: _a, label2id: _b, num_labels: _c, sentence_transformers: _d, ...rest } = config;
  return { config: { ...rest, architectures: architecture(config, 'none') }, weights };
}
