import type { Ranker } from '../rank/results.js';
import { kendallTau, topKOverlap } from './agreement.js';
import { InputError } from '../errors.js';

export interface ModelTiming {
  model: string;
  /** Median wall time of one `rank` call over `repeats`, after one warm-up. */
  ms: number;
  docsPerSecond: number;
  /** Original document indices, best first. */
  order: number[];
  /** Scores in input order. */
  scores: number[];
}

export interface PairAgreement {
  a: string;
  b: string;
  kendallTau: number;
  /** Share of the top k documents both models keep, by k. */
  topOverlap: Record<number, number>;
}

export interface Comparison {
  query: string;
  documents: number;
  models: ModelTiming[];
  agreement: PairAgreement[];
}

export interface CompareOptions {
  /** Timed runs per model (default 3); the median is reported. */
  repeats?: number;
  /** Cut-offs for the top-k overlap (default 3 and 5). */
  overlapAt?: number[];
  onModelDone?: (timing: ModelTiming) => void;
}

/**
 * Times rankers one after another on the same input. Running them concurrently (as the source article did with
 * threads) makes them compete for the same cores, so whichever model runs longest looks slowest.
 */
export async function compareRankers(
  rankers: readonly Ranker[],
  query: string,
  documents: readonly string[],
  options: CompareOptions = {},
): Promise<Comparison> {
  const repeats = options.repeats ?? 3;
  if (!Number.isInteger(repeats) || repeats < 1) throw new InputError(`repeats: expected a positive integer, got ${repeats}`);
  const overlapAt = options.overlapAt ?? [3, 5];
  const models: ModelTiming[] = [];
  for (const ranker of rankers) {
    await ranker.rank(query, documents, { returnDocuments: false });
    const times: number[] = [];
    let order: number[] = [];
    const scores = new Array<number>(documents.length);
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      const ranked = await ranker.rank(query, documents, { returnDocuments: false });
      times.push(performance.now() - start);
      order = ranked.results.map((x) => x.index);
      for (const x of ranked.results) scores[x.index] = x.score;
    }
    const ms = median(times);
    const timing = { model: ranker.name, ms, docsPerSecond: (documents.length * 1000) / ms, order, scores };
    models.push(timing);
    options.onModelDone?.(timing);
  }
  const agreement: PairAgreement[] = [];
  for (let i = 0; i < models.length; i++) {
    for (let j = i + 1; j < models.length; j++) {
      const topOverlap: Record<number, number> = {};
      for (const k of overlapAt) {
        if (k <= documents.length) topOverlap[k] = topKOverlap(models[i].order, models[j].order, k);
      }
      agreement.push({
        a: models[i].model,
        b: models[j].model,
        kendallTau: documents.length >= 2 ? kendallTau(models[i].scores, models[j].scores) : NaN,
        topOverlap,
      });
    }
  }
  return { query, documents: documents.length, models, agreement };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
