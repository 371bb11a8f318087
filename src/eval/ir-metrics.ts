/**
 * Ranking metrics for one query: a ranking (ids, best first) judged against graded relevance labels.
 *
 * Conventions, shared by every function here:
 * - A document is relevant when its grade is > 0. Documents missing from `relevance` have grade 0.
 * - Judged documents that the ranking never returns still count as relevant (recall, AP and the ideal nDCG see them),
 *   so a ranker cannot look better by returning fewer documents.
 * - A query with no relevant document scores 0 on every metric. There is nothing to find, so no ranking can earn
 *   credit; evaluators that average over queries should leave such queries out rather than average in the zeros.
 */
import { InputError } from '../errors.js';

export type RelevanceLabels<Id> = ReadonlyMap<Id, number>;

function checkK(k: number, name: string): void {
  if (!Number.isInteger(k) || k < 1) throw new InputError(`${name}: k must be a positive integer, got ${k}`);
}

function checkRanking<Id>(ranking: readonly Id[], name: string): void {
  // A repeated id would be counted twice as a hit and could push recall or precision above 1.
  if (new Set(ranking).size !== ranking.length) throw new InputError(`${name}: the ranking repeats an id`);
}

function checkRelevance<Id>(relevance: RelevanceLabels<Id>, name: string): void {
  for (const [id, grade] of relevance) {
    if (typeof grade !== 'number' || !Number.isFinite(grade) || grade < 0) {
      throw new InputError(`${name}: grade of ${String(id)} must be a finite number >= 0, got ${grade}`);
    }
  }
}

function gradeOf<Id>(relevance: RelevanceLabels<Id>, id: Id): number {
  return relevance.get(id) ?? 0;
}

function relevantCount<Id>(relevance: RelevanceLabels<Id>): number {
  let n = 0;
  for (const grade of relevance.values()) if (grade > 0) n++;
  return n;
}

function hitsAtK<Id>(ranking: readonly Id[], relevance: RelevanceLabels<Id>, k: number): number {
  let hits = 0;
  for (const id of ranking.slice(0, k)) if (gradeOf(relevance, id) > 0) hits++;
  return hits;
}

/**
 * How a grade becomes a gain: `exponential` is 2^grade - 1 (Burges et al., sentence-transformers' evaluators);
 * `linear` is the grade itself (trec_eval's and so pytrec_eval's and BEIR's ndcg_cut). Equal for binary labels.
 */
export type GainFunction = 'exponential' | 'linear';

/** Gains discounted by log2(position + 1), position 1-based. */
function dcg(grades: readonly number[], gain: GainFunction): number {
  let sum = 0;
  grades.forEach((grade, i) => {
    sum += (gain === 'linear' ? grade : 2 ** grade - 1) / Math.log2(i + 2);
  });
  return sum;
}

/**
 * nDCG@k: DCG of the first k ranked documents over the DCG of the best possible first k, built from every judged
 * document (not only the ranked ones). 0 when no document is relevant.
 */
export function ndcgAtK<Id>(ranking: readonly Id[], relevance: RelevanceLabels<Id>, k: number, gain: GainFunction = 'exponential'): number {
  checkK(k, 'ndcgAtK');
  checkRanking(ranking, 'ndcgAtK');
  checkRelevance(relevance, 'ndcgAtK');
  const ideal = dcg([...relevance.values()].sort((a, b) => b - a).slice(0, k), gain);
  if (ideal === 0) return 0;
  return dcg(ranking.slice(0, k).map((id) => gradeOf(relevance, id)), gain) / ideal;
}

/** Reciprocal rank of the first relevant document within the first k; 0 when none is there. */
export function mrrAtK<Id>(ranking: readonly Id[], relevance: RelevanceLabels<Id>, k: number): number {
  checkK(k, 'mrrAtK');
  checkRanking(ranking, 'mrrAtK');
  checkRelevance(relevance, 'mrrAtK');
  const first = ranking.slice(0, k).findIndex((id) => gradeOf(relevance, id) > 0);
  return first === -1 ? 0 : 1 / (first + 1);
}

/**
 * Average precision over the whole ranking (or its first k): the mean, over all relevant documents, of the precision at the position
 * where each one is found (0 for one never found). Grades count only as relevant or not. 0 when none is relevant.
 * MAP is the mean of this over queries.
 */
export function averagePrecision<Id>(ranking: readonly Id[], relevance: RelevanceLabels<Id>, k: number = Infinity): number {
  if (k !== Infinity) checkK(k, 'averagePrecision');
  checkRanking(ranking, 'averagePrecision');
  checkRelevance(relevance, 'averagePrecision');
  const total = relevantCount(relevance);
  if (total === 0) return 0;
  let hits = 0;
  let sum = 0;
  // With a cut-off (trec_eval's map_cut), documents below k earn nothing but the divisor stays every relevant one.
  ranking.slice(0, k).forEach((id, i) => {
    if (gradeOf(relevance, id) > 0) {
      hits++;
      sum += hits / (i + 1);
    }
  });
  return sum / total;
}

/** Share of the relevant documents found in the first k; 0 when none is relevant. */
export function recallAtK<Id>(ranking: readonly Id[], relevance: RelevanceLabels<Id>, k: number): number {
  checkK(k, 'recallAtK');
  checkRanking(ranking, 'recallAtK');
  checkRelevance(relevance, 'recallAtK');
  const total = relevantCount(relevance);
  return total === 0 ? 0 : hitsAtK(ranking, relevance, k) / total;
}

/**
 * Share of the first k positions holding a relevant document. Divides by k even when the ranking is shorter, as
 * trec_eval does, so that returning fewer documents is not rewarded.
 */
export function precisionAtK<Id>(ranking: readonly Id[], relevance: RelevanceLabels<Id>, k: number): number {
  checkK(k, 'precisionAtK');
  checkRanking(ranking, 'precisionAtK');
  checkRelevance(relevance, 'precisionAtK');
  return hitsAtK(ranking, relevance, k) / k;
}

/** Mean of the per-query average precisions. NaN for no queries: there is no mean of nothing. */
export function meanAveragePrecision<Id>(queries: ReadonlyArray<{ ranking: readonly Id[]; relevance: RelevanceLabels<Id> }>): number {
  return mean(queries.map((q) => averagePrecision(q.ranking, q.relevance)));
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
