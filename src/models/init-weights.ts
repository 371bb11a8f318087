import type { BertConfig, ModelHead } from './config.js';
import { numLabels } from './config.js';
import type { TensorMap } from './tensors.js';
import { SeededRandom } from './random.js';

export interface InitOptions {
  /** Standard deviation of weight matrices and embeddings; Hugging Face's `initializer_range` default is 0.02. */
  std?: number;
  /**
   * Draw biases and LayerNorm parameters at random too. HF init makes them 0 and 1, which hides a swapped bias or
   * a LayerNorm wired to the wrong tensor; tests turn this on so such mistakes change the output.
   */
  randomizeNormsAndBiases?: boolean;
}

/**
 * Fresh BERT weights under Hugging Face parameter names: `bert.`-prefixed plus `classifier.*` for a
 * sequence-classification head (BertForSequenceClassification), unprefixed for a plain encoder (BertModel).
 */
export function initBertWeights(config: BertConfig, head: ModelHead, seed: number, options: InitOptions = {}): TensorMap {
  const rng = new SeededRandom(seed);
  const std = options.std ?? (typeof config.initializer_range === 'number' ? config.initializer_range : 0.02);
  const randomize = options.randomizeNormsAndBiases ?? false;
  const prefix = head === 'sequence-classification' ? 'bert.' : '';
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const weights: TensorMap = new Map();

  const normal = (name: string, shape: number[]): void => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, std);
    weights.set(name, { shape, data });
  };
  const bias = (name: string, n: number): void => {
    const data = new Float32Array(n);
    if (randomize) for (let i = 0; i < n; i++) data[i] = rng.normal(0, 0.1);
    weights.set(name, { shape: [n], data });
  };
  const layerNorm = (name: string): void => {
    const gamma = new Float32Array(H).fill(1);
    if (randomize) for (let i = 0; i < H; i++) gamma[i] = 1 + rng.normal(0, 0.1);
    weights.set(`${name}.weight`, { shape: [H], data: gamma });
    bias(`${name}.bias`, H);
  };
  const linear = (name: string, out: number, inp: number): void => {
    normal(`${name}.weight`, [out, inp]);
    bias(`${name}.bias`, out);
  };

  normal(`${prefix}embeddings.word_embeddings.weight`, [config.vocab_size, H]);
  normal(`${prefix}embeddings.position_embeddings.weight`, [config.max_position_embeddings, H]);
  normal(`${prefix}embeddings.token_type_embeddings.weight`, [config.type_vocab_size, H]);
  // HF zeroes the padding row of the word embeddings.
  const pad = config.pad_token_id;
  if (typeof pad === 'number' && pad >= 0 && pad < config.vocab_size) {
    weights.get(`${prefix}embeddings.word_embeddings.weight`)!.data.fill(0, pad * H, (pad + 1) * H);
  }
  layerNorm(`${prefix}embeddings.LayerNorm`);
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `${prefix}encoder.layer.${l}`;
    linear(`${p}.attention.self.query`, H, H);
    linear(`${p}.attention.self.key`, H, H);
    linear(`${p}.attention.self.value`, H, H);
    linear(`${p}.attention.output.dense`, H, H);
    layerNorm(`${p}.attention.output.LayerNorm`);
    linear(`${p}.intermediate.dense`, I, H);
    linear(`${p}.output.dense`, H, I);
    layerNorm(`${p}.output.LayerNorm`);
  }
  linear(`${prefix}pooler.dense`, H, H);
  if (head === 'sequence-classification') linear('classifier', numLabels(config), H);
  return weights;
}
