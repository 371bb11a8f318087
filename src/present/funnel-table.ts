import type { FunnelResult } from '../pipeline/funnel.js';
import { RELEVANCE_TIERS, stageTiers } from '../pipeline/tiers.js';
import type { LlmRankReport } from '../rank/llm/listwise-ranker.js';

/** The tier columns: a count per relevance tier, then strict precision (high only) and the article's (high + partial). */
const TIER_COLUMNS = [...RELEVANCE_TIERS, 'precision', 'high+partial'];

/** Headers and rows of the article's per-stage table, for `table()`. */
export function funnelTable(result: FunnelResult): { headers: string[]; rows: Array<Array<string | number>> } {
  const tiers = stageTiers(result);
  const headers = ['stage', 'kept', ...(tiers ? TIER_COLUMNS : []), 'ms', 'llm'];
  const rows = result.stages.map((s, i) => {
    const t = tiers?.[i];
    const tierCells = t ? [...RELEVANCE_TIERS.map((tier) => t[tier]), percent(t.precision), percent(t.lenientPrecision)] : [];
    return [s.name, s.kept.length, ...tierCells, Math.round(s.ms), s.llm ? describeLlm(s.llm) : ''];
  });
  return { headers, rows };
}

/** The stages as the CLI's --json prints them: ids and scores of what each kept, its time, tier counts and LLM report. */
export function funnelStagesJson(result: FunnelResult): Array<Record<string, unknown>> {
  const tiers = stageTiers(result);
  return result.stages.map((s, i) => ({
    name: s.name,
    k: s.k,
    kept: s.kept.map((c) => ({ id: c.id, score: c.score })),
    ms: s.ms,
    ...(tiers ? { tiers: tiers[i] } : {}),
    ...(s.llm ? { llm: s.llm } : {}),
  }));
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
