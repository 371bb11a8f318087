/** Universal Sentence Encoder Lite (`model_type: "use-lite"`), converted from the npm package, and its cross-encoder variant. */
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { headOf, type BertConfig } from '../config.js';
import type { FamilyConfig, ModelFamily } from '../family.js';
import { addClassifier, ONE_LABEL, seededNormal } from '../new-head.js';
import { UseLiteOnnxEncoder } from './encoder.js';
import { buildUseLiteOnnx, type UseLiteConfig } from './graph.js';
import { UseLitePairTokenizer } from './pair-tokenizer.js';
import { checkUseLiteConfig, useLiteTorchLayout } from './torch-layout.js';
import { ModelInvalidError } from '../../errors.js';

/** Tensors only the cross-encoder variant has: the pair's segment embedding and the classifier. */
const CROSS_ONLY = ['embeddings.token_type_embeddings.weight', 'classifier.weight', 'classifier.bias'];

const asUseLite = (config: FamilyConfig): UseLiteConfig => config as unknown as UseLiteConfig;

export const useLiteFamily: ModelFamily = {
  name: 'USE Lite',
  modelTypes: ['use-lite'],
  validateConfig(raw, source) {
    if (typeof raw !== 'object' || raw === null) throw new ModelInvalidError(`${source}: expected a JSON object`);
    checkUseLiteConfig(raw as UseLiteConfig, source);
    return raw as FamilyConfig;
  },
  headOf: (config) => headOf(config as BertConfig),
  loadTokenizer: (dir) => UseLitePairTokenizer.load(join(dir, 'tokenizer.json')),
  writeOnnx: (path, config, weights, { head, dtype }) => writeFileAtomic(path, buildUseLiteOnnx(weights, dtype, asUseLite(config), head)),
  weightsMetadata: { format: 'pt', rankwise_model_type: 'use-lite' },
  async loadSentenceEncoder(folder, options) {
    if (folder.head !== 'none') throw new ModelInvalidError(`model "${folder.name}": a USE Lite cross-encoder scores pairs; it is not a sentence encoder`);
    return UseLiteOnnxEncoder.load(folder.dir, { dtype: options.dtype, threads: options.threads, name: folder.name });
  },
  /**
   * As the backbone of a cross-encoder the pair's segment embedding starts at zero, so before training the encoder
   * computes exactly the pretrained model's states for `<s> query </s> document </s>`; only the classifier is new.
   */
  retarget(config, weights, head, seed) {
    const useLite = asUseLite(config);
    const isCross = headOf(config as BertConfig) === 'sequence-classification';
    const { architectures: _a, type_vocab_size: _t, id2label: _i, label2id: _l, ...encoderConfig } = useLite;
    if (head === 'sequence-classification' && !isCross) {
      const types = 2;
      const tensors = new Map(weights);
      tensors.set('embeddings.token_type_embeddings.weight', { shape: [types, useLite.embedding_size], data: new Float32Array(types * useLite.embedding_size) });
      addClassifier(tensors, useLite.hidden_size, seededNormal(seed));
      return { weights: tensors, config: { ...encoderConfig, architectures: ['UseLiteForSequenceClassification'], type_vocab_size: types, ...ONE_LABEL } };
    }
    if (head === 'none' && isCross) {
      const tensors = new Map(weights);
      for (const key of CROSS_ONLY) tensors.delete(key);
      return { weights: tensors, config: { ...encoderConfig, architectures: ['UseLiteEncoder'] } };
    }
    return { config, weights };
  },
  // USE Lite's pooling is part of the graph: masked mean, tanh dense, L2 norm.
  pooling: async () => 'mean',
  torchLayout: (config, head, pooling) => useLiteTorchLayout(asUseLite(config), head, pooling),
};
