import type { CrossEncoder } from '../rank/cross-encoder.js';

/**
 * Maps a cross-encoder teacher's logit to a target cosine similarity for a bi-encoder student:
 * `2 * sigmoid(logit) - 1 = tanh(logit / 2)`. The sigmoid is the teacher's own probability of relevance, so the
 * mapping keeps its order and its confidence; the linear stretch puts "certainly irrelevant" at -1 and "certainly
 * relevant" at +1, the ends of the cosine range. Min-max scaling over the data set would instead depend on its
 * most extreme pair.
 */
export function logitToSimilarity(logit: number): number {
  return Math.tanh(logit / 2);
}

/** The teacher's raw logits for every (query, document) pair, in input order. */
export async function teacherLogits(
  teacher: CrossEncoder,
  pairs: ReadonlyArray<readonly [string, string]>,
  options: { batchSize?: number; maxLength?: number; onProgress?: (done: number) => void } = {},
): Promise<Float32Array> {
  return teacher.predict(pairs, { ...options, activation: 'none' });
}
