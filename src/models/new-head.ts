import { SeededRandom } from './random.js';
import type { TensorMap } from './tensors.js';

/** The label maps of a fresh one-logit head, as Hugging Face writes them. */
export const ONE_LABEL = { id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 } };

/** N(0, 0.02) draws, as Hugging Face initialises a new head. */
export function seededNormal(seed: number): (n: number) => Float32Array {
  const rng = new SeededRandom(seed);
  return (n) => Float32Array.from({ length: n }, () => rng.normal(0, 0.02));
}

/** A fresh one-logit classifier reading a `hidden`-wide pooled vector. */
export function addClassifier(weights: TensorMap, hidden: number, normal: (n: number) => Float32Array): void {
  weights.set('classifier.weight', { shape: [1, hidden], data: normal(hidden) });
  weights.set('classifier.bias', { shape: [1], data: new Float32Array(1) });
}
