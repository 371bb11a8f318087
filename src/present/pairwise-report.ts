import { comparePairwise, type CaseChange, type PairwiseResult, type SplitTally } from '../eval/pairwise.js';
import { ellipsis } from './text.js';

const QUERY_WIDTH = 50;

/**
 * A gap with its sign and four decimals; a non-zero gap too small for four decimals (untrained or nearly tied models)
 * goes to exponent form, so that a PASS never shows as +0.0000.
 */
function signed(value: number): string {
  const sign = value > 0 ? '+' : value < 0 ? '-' : '';
  const size = Math.abs(value);
  return `${sign}${size !== 0 && size < 5e-5 ? size.toExponential(1) : size.toFixed(4)}`;
}

function percent(t: SplitTally): string {
  return t.total === 0 ? 'n/a (no cases)' : `${t.passed}/${t.total} (${((100 * t.passed) / t.total).toFixed(1)}%)`;
}

/** Right-aligns a column of numbers already turned into text, so the decimal points line up. */
function alignRight(values: string[]): string[] {
  const width = Math.max(...values.map((v) => v.length));
  return values.map((v) => v.padStart(width));
}

/**
 * One row per case (#, split, PASS/FAIL, scores, gap, query), then accuracy overall and per split and the average gap.
 * Scores keep four decimals: gaps between a relevant document and a close distractor are often in the third.
 */
export function formatPairwiseReport(result: PairwiseResult): string {
  const relevant = alignRight(result.cases.map((c) => c.relevantScore.toFixed(4)));
  const distractor = alignRight(result.cases.map((c) => c.distractorScore.toFixed(4)));
  const gaps = alignRight(result.cases.map((c) => signed(c.gap)));
  const numbers = alignRight(result.cases.map((_, i) => String(i + 1)));
  const rows = result.cases.map((c, i) => [numbers[i], c.split ?? '-', c.passed ? 'PASS' : 'FAIL', relevant[i], distractor[i], gaps[i], ellipsis(c.query, QUERY_WIDTH)]);
  const headers = ['#', 'split', 'result', 'relevant', 'distractor', 'gap', 'query'];
  const widths = headers.map((h, col) => Math.max(h.length, ...rows.map((r) => r[col].length)));
  const line = (cells: string[]) => cells.map((cell, col) => cell.padEnd(widths[col])).join('  ').trimEnd();
  return [
    `Model: ${result.model}`,
    '',
    line(headers),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `Accuracy: ${percent(result)}`,
    `  seen:   ${percent(result.seen)}`,
    `  unseen: ${percent(result.unseen)}`,
    `Average gap (relevant - distractor): ${signed(result.avgGap)}`,
  ].join('\n');
}

function changeLine(c: CaseChange): string {
  return `  #${c.index + 1} [${c.split ?? '-'}] gap ${signed(c.gapBefore)} -> ${signed(c.gapAfter)}  ${ellipsis(c.query, QUERY_WIDTH)}`;
}

function tallyChange(before: SplitTally, after: SplitTally): string {
  if (before.total === 0) return 'n/a (no cases)';
  const points = (100 * (after.passed / after.total - before.passed / before.total)).toFixed(1);
  return `${percent(before)} -> ${percent(after)}  (${Number(points) > 0 ? '+' : ''}${points} points)`;
}

/** Before/after report: accuracy overall and per split, average gap, and which cases were fixed or broken. */
export function formatPairwiseComparison(before: PairwiseResult, after: PairwiseResult): string {
  const c = comparePairwise(before, after);
  const out = [
    `Before: ${before.model}`,
    `After:  ${after.model}`,
    '',
    `Accuracy: ${tallyChange(before, after)}`,
    `  seen:   ${tallyChange(before.seen, after.seen)}`,
    `  unseen: ${tallyChange(before.unseen, after.unseen)}`,
    `Average gap: ${signed(c.avgGapBefore)} -> ${signed(c.avgGapAfter)} (${signed(c.avgGapChange)})`,
    '',
    `Fixed (${c.fixed.length}): failed before, pass after`,
    ...c.fixed.map(changeLine),
    `Broken (${c.broken.length}): passed before, fail after`,
    ...c.broken.map(changeLine),
  ];
  return out.join('\n');
}

export function pairwiseJson(result: PairwiseResult) {
  return {
    model: result.model,
    accuracy: result.accuracy,
    passed: result.passed,
    total: result.total,
    seen: result.seen,
    unseen: result.unseen,
    avg_gap: result.avgGap,
    cases: result.cases.map((c) => ({
      query: c.query,
      split: c.split ?? null,
      topic: c.topic ?? null,
      relevant_score: c.relevantScore,
      distractor_score: c.distractorScore,
      gap: c.gap,
      passed: c.passed,
    })),
  };
}

/** `train --json`'s before/after summary: the headline numbers without the cases. */
export function pairwiseSummaryJson(r: PairwiseResult) {
  return { accuracy: r.accuracy, seen: r.seen, unseen: r.unseen, avg_gap: r.avgGap };
}
