import type { BeirEvaluation, BeirMetrics } from '../eval/beir.js';
import { relativeChange } from './relative-change.js';
import { table } from './table.js';

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
