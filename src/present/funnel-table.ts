import type { FunnelResult } from '../pipeline/funnel.js';
import { RELEVANCE_TIERS } from '../pipeline/tiers.js';
import type { LlmRankReport } from '../rank/llm/listwise-ranker.js';

/** The tier columns: a count per relevance tier, then strict precision (high only) and the article's (high + partial). */
const TIER_COLUMNS = [...RELEVANCE_TIERS, 'precision', 'high+partial'];

/** Headers and rows of the article's per-stage table, for `table()`. */
export function funnelTable(result: FunnelResult): { headers: string[]; rows: Array<Array<string | number>> } {
  const withTiers = result.stages.every((s) => s.tiers);
  const headers = ['stage', 'kept', ...(withTiers ? TIER_COLUMNS : []), 'ms', 'llm'];
  const rows = result.stages.map((s) => {
    const t = s.tiers;
    const tierCells = t ? [...RELEVANCE_TIERS.map((tier) => t[tier]), percent(t.precision), percent(t.lenientPrecision)] : [];
    return [s.name, s.kept.length, ...tierCells, Math.round(s.ms), s.llm ? describeLlm(s.llm) : ''];
  });
  return { headers, rows };
}

/** One line on how an LLM stage went: fine, repaired, or failed and kept the previous order. */
export function describeLlm(report: LlmRankReport): string {
  const parts = [`${report.windows.length} call${report.windows.length === 1 ? '' : 's'}`];
  if (report.retries > 0) parts.push(`${report.retries} retr${report.retries === 1 ? 'y' : 'ies'}`);
  if (report.repairedWindows > 0) parts.push(`${report.repairedWindows} repaired`);
  if (report.failedWindows > 0) parts.push(`${report.failedWindows} failed, previous order kept (${report.failure})`);
  return parts.join(', ');
}

function percent(value: number): string {
  return Number.isNaN(value) ? 'n/a' : `${Math.round(value * 100)}%`;
}
