import type { BeirEvaluation, BeirMetrics } from '../eval/beir.js';
import type { RankedResults } from '../rank/results.js';

export function ellipsis(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

/** The source article's layout: `#1 (score 8.0912) [was #0] text…`. */
export function formatRanking(ranked: RankedResults, documents: readonly string[], width = 90, mark?: (index: number) => string): string {
  return ranked.results
    .map((r) => `#${r.rank} (score ${r.score.toFixed(4)}) [was #${r.index}] ${ellipsis(documents[r.index], width)}${mark ? mark(r.index) : ''}`)
    .join('\n');
}

/** A plain text table with right-aligned numeric columns. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((row) => row.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const numeric = headers.map((_, i) => rows.every((r) => typeof r[i] === 'number'));
  const line = (values: string[]) => values.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(Math.abs(value) >= 10 ? 2 : 3);
}

/** `+12.3%` / `-4.0%` against a baseline; `n/a` when the baseline is 0. */
export function relativeChange(value: number, baseline: number): string {
  if (!(baseline > 0)) return 'n/a';
  const change = ((value - baseline) / baseline) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(1)}%`;
}

/** `eval beir`'s table: the first stage, then each reranker alone and fused, with nDCG@10 relative to the first stage. */
export function formatBeirReport(result: BeirEvaluation): string {
  const base = result.firstStage.metrics['ndcg@10'];
  const row = (name: string, m: BeirMetrics, seconds: number | string) => [
    name,
    m['ndcg@10'].toFixed(4),
    relativeChange(m['ndcg@10'], base),
    m['mrr@10'].toFixed(4),
    m['map@100'].toFixed(4),
    m['recall@100'].toFixed(4),
    typeof seconds === 'number' ? seconds.toFixed(1) : seconds,
  ];
  const fusion = result.fusion.method === 'rrf' ? 'rrf' : `linear ${result.fusion.weight}`;
  const rows = [
    row(`${result.firstStage.name} (first stage, top ${result.depth})`, result.firstStage.metrics, result.seconds.firstStage),
    ...result.rerankers.flatMap((r) => [row(r.name, r.metrics, result.seconds.rerankers[r.name]), row(`${r.name} + first stage (${fusion})`, r.fused, '')]),
  ];
  const skipped = result.skipped > 0 ? `; ${result.skipped} judged queries without a relevant document left out` : '';
  return [
    `Collection: ${result.dir} (split ${result.split}): ${result.documents} documents, ${result.queries} queries${skipped}`,
    '',
    table(['system', 'nDCG@10', 'vs first', 'MRR@10', 'MAP@100', 'R@100', 'seconds'], rows),
    '',
    `Index ${result.seconds.index.toFixed(1)} s, total ${result.seconds.total.toFixed(1)} s. R@100 of a reranker is the first stage's: reranking ${result.depth} candidates cannot add any.`,
  ].join('\n');
}

/** `eval beir --json`: snake_case keys, metrics under BEIR's names. */
export function beirJson(result: BeirEvaluation) {
  return {
    data: result.dir,
    split: result.split,
    documents: result.documents,
    queries: result.queries,
    skipped: result.skipped,
    depth: result.depth,
    fusion: result.fusion,
    first_stage: { name: result.firstStage.name, ...result.firstStage.metrics },
    rerankers: Object.fromEntries(result.rerankers.map((r) => [r.name, { ...r.metrics, fused: r.fused }])),
    seconds: { index: result.seconds.index, first_stage: result.seconds.firstStage, rerankers: result.seconds.rerankers, total: result.seconds.total },
    per_query: result.perQuery.map((q) => ({ query_id: q.queryId, first_stage: q.firstStage, rerankers: q.rerankers })),
  };
}
