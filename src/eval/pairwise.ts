/**
 * The source article's pairwise test: for each query, does the ranker score a relevant document above a distractor
 * written to look relevant? Cases carry a split, `seen` (like the fine-tuning data) or `unseen`, so that a fine-tuned
 * model's gain on unseen cases can be told apart from memorisation.
 */
import type { Ranker } from '../rank/results.js';
import { mean } from './ir-metrics.js';
import { readJsonLines } from '../util/jsonl.js';
import { InputError } from '../errors.js';

export const SPLITS = ['seen', 'unseen'] as const;
export type Split = (typeof SPLITS)[number];

export interface PairwiseCase {
  query: string;
  relevant: string;
  distractor: string;
  split?: Split;
  topic?: string;
}

export interface PairwiseCaseResult {
  query: string;
  split?: Split;
  topic?: string;
  relevantScore: number;
  distractorScore: number;
  /** relevantScore - distractorScore. */
  gap: number;
  /** gap > 0: a tie is a failure, since the ranker did not tell the two apart. */
  passed: boolean;
}

export interface SplitTally {
  passed: number;
  total: number;
}

export interface PairwiseResult {
  model: string;
  /** passed / total. */
  accuracy: number;
  passed: number;
  total: number;
  /** Cases without a split count only in the overall figures. */
  seen: SplitTally;
  unseen: SplitTally;
  /** Mean gap over all cases; unlike accuracy it shows how sure the ranker is, not only which way it leans. */
  avgGap: number;
  /** In input order. */
  cases: PairwiseCaseResult[];
}

export interface PairwiseOptions {
  /** Called after each case with the number of cases scored so far. */
  onProgress?: (casesDone: number) => void;
}

/**
 * Checks one case as read from JSON and returns it typed; the error names the offending field, and callers add where
 * the case came from (`cases[3]: `, `file.jsonl:4: `).
 */
export function parsePairwiseCase(value: unknown): PairwiseCase {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('expected a JSON object');
  const v = value as Record<string, unknown>;
  for (const field of ['query', 'relevant', 'distractor'] as const) {
    if (typeof v[field] !== 'string' || (v[field] as string).trim() === '') {
      throw new InputError(`field "${field}" must be a non-empty string`);
    }
  }
  if (v.split !== undefined && !(SPLITS as readonly unknown[]).includes(v.split)) {
    throw new InputError(`field "split" must be "seen" or "unseen", got ${JSON.stringify(v.split)}`);
  }
  if (v.topic !== undefined && typeof v.topic !== 'string') throw new InputError('field "topic" must be a string');
  return {
    query: v.query as string,
    relevant: v.relevant as string,
    distractor: v.distractor as string,
    ...(v.split !== undefined ? { split: v.split as Split } : {}),
    ...(v.topic !== undefined ? { topic: v.topic as string } : {}),
  };
}

export async function evaluatePairwise(ranker: Ranker, cases: readonly PairwiseCase[], options: PairwiseOptions = {}): Promise<PairwiseResult> {
  if (cases.length === 0) throw new InputError('cases: expected at least one case');
  // Check everything first, so a bad case near the end fails before minutes of scoring rather than after.
  const checked = cases.map((c, i) => {
    try {
      return parsePairwiseCase(c);
    } catch (error) {
      throw new InputError(`cases[${i}]: ${(error as Error).message}`);
    }
  });
  const results: PairwiseCaseResult[] = [];
  for (const c of checked) {
    const ranked = await ranker.rank(c.query, [c.relevant, c.distractor], { returnDocuments: false });
    const scoreOf = (index: number) => {
      const found = ranked.results.find((r) => r.index === index);
      if (!found) throw new InputError(`ranker ${ranker.name} returned no score for document ${index}`);
      return found.score;
    };
    const relevantScore = scoreOf(0);
    const distractorScore = scoreOf(1);
    const gap = relevantScore - distractorScore;
    results.push({
      query: c.query,
      ...(c.split !== undefined ? { split: c.split } : {}),
      ...(c.topic !== undefined ? { topic: c.topic } : {}),
      relevantScore,
      distractorScore,
      gap,
      passed: gap > 0,
    });
    options.onProgress?.(results.length);
  }
  return summarise(ranker.name, results);
}

function tally(cases: readonly PairwiseCaseResult[], split?: Split): SplitTally {
  const chosen = split === undefined ? cases : cases.filter((c) => c.split === split);
  return { passed: chosen.filter((c) => c.passed).length, total: chosen.length };
}

function summarise(model: string, cases: PairwiseCaseResult[]): PairwiseResult {
  const all = tally(cases);
  return {
    model,
    accuracy: all.passed / all.total,
    passed: all.passed,
    total: all.total,
    seen: tally(cases, 'seen'),
    unseen: tally(cases, 'unseen'),
    avgGap: mean(cases.map((c) => c.gap)),
    cases,
  };
}

export interface CaseChange {
  /** 0-based position of the case in the input. */
  index: number;
  query: string;
  split?: Split;
  gapBefore: number;
  gapAfter: number;
}

export interface PairwiseComparison {
  accuracyBefore: number;
  accuracyAfter: number;
  /** accuracyAfter - accuracyBefore. */
  accuracyChange: number;
  avgGapBefore: number;
  avgGapAfter: number;
  avgGapChange: number;
  seen: { before: SplitTally; after: SplitTally };
  unseen: { before: SplitTally; after: SplitTally };
  /** Failed before, pass after. */
  fixed: CaseChange[];
  /** Passed before, fail after. */
  broken: CaseChange[];
}

/** What changed between two runs over the same cases, e.g. a base model and its fine-tuned version. */
export function comparePairwise(before: PairwiseResult, after: PairwiseResult): PairwiseComparison {
  if (before.cases.length !== after.cases.length) {
    throw new InputError(`comparePairwise: the runs have different numbers of cases (${before.cases.length} and ${after.cases.length})`);
  }
  const fixed: CaseChange[] = [];
  const broken: CaseChange[] = [];
  before.cases.forEach((b, index) => {
    const a = after.cases[index];
    // Cases are matched by position, so a reordered or different case file would pair unrelated cases.
    if (a.query !== b.query || a.split !== b.split) {
      throw new InputError(`comparePairwise: case ${index + 1} differs between the runs (${JSON.stringify(b.query)} and ${JSON.stringify(a.query)})`);
    }
    if (b.passed === a.passed) return;
    const change = { index, query: b.query, ...(b.split !== undefined ? { split: b.split } : {}), gapBefore: b.gap, gapAfter: a.gap };
    (a.passed ? fixed : broken).push(change);
  });
  return {
    accuracyBefore: before.accuracy,
    accuracyAfter: after.accuracy,
    accuracyChange: after.accuracy - before.accuracy,
    avgGapBefore: before.avgGap,
    avgGapAfter: after.avgGap,
    avgGapChange: after.avgGap - before.avgGap,
    seen: { before: before.seen, after: after.seen },
    unseen: { before: before.unseen, after: after.unseen },
    fixed,
    broken,
  };
}

/** A JSONL file of cases; a bad line is an error naming the file and line. */
export async function readPairwiseCases(path: string, what = path): Promise<PairwiseCase[]> {
  return (await readJsonLines(path, what)).map(({ line, value }) => {
    try {
      return parsePairwiseCase(value);
    } catch (error) {
      throw new InputError(`${path}:${line}: ${(error as Error).message}`);
    }
  });
}
