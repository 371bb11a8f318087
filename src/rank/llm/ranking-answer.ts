/** What had to be fixed in one answer, in the answer's own document numbers (1-based, as the prompt shows them). */
import { InputError } from '../../errors.js';
export interface RankingRepairs {
  /** Entries that name no document: out of range, not integers, not numbers. */
  invalid: unknown[];
  /** Numbers given more than once (each later occurrence was dropped). */
  duplicates: number[];
  /** Documents the answer left out; appended in the previous stage's order. */
  missing: number[];
}

export interface ValidatedRanking {
  /** A permutation of 0..count-1 (indices into the prompt's documents), best first. */
  order: number[];
  repairs: RankingRepairs;
  /** True when any repair was needed. */
  repaired: boolean;
}

/**
 * Reads `{"ranking": [...]}` from an answer. Not JSON, or no `ranking` array, is an error (nothing to repair: the
 * caller retries or keeps the previous order); anything inside the array is left for `validateRanking` to judge.
 */
export function parseRankingAnswer(text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`answer is not JSON (${(error as Error).message}): ${preview(text)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`answer: expected a JSON object {"ranking": [...]}, got ${preview(text)}`);
  }
  const ranking = (value as Record<string, unknown>).ranking;
  if (!Array.isArray(ranking)) throw new InputError(`answer: "ranking" must be an array, got ${preview(JSON.stringify(ranking) ?? 'nothing')}`);
  return ranking;
}

/**
 * Turns the numbers an LLM gave (1-based, as shown in the prompt) into a full permutation: drops invalid and repeated
 * numbers, then appends the missing documents in their input order, which is the previous stage's ranking.
 */
export function validateRanking(ranking: readonly unknown[], count: number): ValidatedRanking {
  const repairs: RankingRepairs = { invalid: [], duplicates: [], missing: [] };
  const seen = new Set<number>();
  const order: number[] = [];
  for (const entry of ranking) {
    if (typeof entry !== 'number' || !Number.isInteger(entry) || entry < 1 || entry > count) {
      repairs.invalid.push(entry);
    } else if (seen.has(entry)) {
      repairs.duplicates.push(entry);
    } else {
      seen.add(entry);
      order.push(entry - 1);
    }
  }
  for (let number = 1; number <= count; number++) {
    if (!seen.has(number)) {
      repairs.missing.push(number);
      order.push(number - 1);
    }
  }
  const repaired = repairs.invalid.length + repairs.duplicates.length + repairs.missing.length > 0;
  return { order, repairs, repaired };
}

function preview(text: string, width = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length <= width ? flat : `${flat.slice(0, width)}…`);
}
