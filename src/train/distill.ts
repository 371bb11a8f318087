import { CrossEncoder } from '../rank/cross-encoder.js';
import { scoresOf, type Ranker } from '../rank/results.js';
import { InputError } from '../errors.js';

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

/**
 * The teacher's raw logits for every (query, document) pair, in input order. A cross-encoder gives its logits; any
 * other ranker must score each document by a probability of its own (the built-in hybrid model does: its logistic
 * combination), whose logit log(p / (1 - p)) is then the same quantity.
 */
export async function teacherLogits(
  teacher: Ranker,
  pairs: ReadonlyArray<readonly [string, string]>,
  options: { batchSize?: number; maxLength?: number; onProgress?: (done: number) => void } = {},
): Promise<Float32Array> {
  if (teacher instanceof CrossEncoder) return teacher.predict(pairs, { ...options, activation: 'none' });
  const byQuery = new Map<string, number[]>();
  pairs.forEach(([query], i) => {
    const list = byQuery.get(query);
    if (list) list.push(i);
    else byQuery.set(query, [i]);
  });
  const logits = new Float32Array(pairs.length);
  let done = 0;
  for (const [query, indices] of byQuery) {
    const scores = await scoresOf(teacher, query, indices.map((i) => pairs[i][1]));
    scores.forEach((p, k) => {
      if (!(p >= 0 && p <= 1)) {
        throw new InputError(`teacher: ${teacher.name} scored a pair ${p}; a teacher must be a cross-encoder or a model whose scores are probabilities (a logistic hybrid such as "default")`);
      }
      const clipped = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
      logits[indices[k]] = Math.log(clipped / (1 - clipped));
    });
    done += indices.length;
    options.onProgress?.(done);
  }
  return logits;
}
