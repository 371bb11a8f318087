import type { MiningStats } from '../train/mine-hard-negatives.js';

export function miningStatsJson(stats: MiningStats, out: string, format: string) {
  return {
    out,
    format,
    pairs: stats.pairs,
    queries: stats.queries,
    documents: stats.documents,
    records: stats.records,
    negatives: stats.negatives,
    retriever: stats.retriever,
    scored_by: stats.scoredBy,
    short: { pairs: stats.short.pairs, no_candidates: stats.short.noCandidates, filtered: stats.short.filtered },
    skipped: { margin: stats.skipped.margin, relative_margin: stats.skipped.relativeMargin, max_score: stats.skipped.maxScore },
    positive: { retrieved: stats.positive.retrieved, not_retrieved: stats.positive.notRetrieved, mean_rank: stats.positive.meanRank },
    mean_positive_score: stats.meanPositiveScore,
    mean_negative_score: stats.meanNegativeScore,
    seconds: stats.seconds,
  };
}

/** `mine`'s text report: what was mined, what fell short or was skipped, where the positives ranked. */
export function formatMiningStats(stats: MiningStats, out: string, format: string, asked: number): string {
  const score = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
  const lines = [
    `Mined ${stats.negatives} negatives for ${stats.pairs} pairs (${stats.queries} queries) from ${stats.documents} documents ` +
      `with ${stats.retriever} in ${stats.seconds.toFixed(1)} s; scores: ${stats.scoredBy}`,
    `short:     ${stats.short.pairs} pairs got fewer than ${asked} negatives (${stats.short.noCandidates} too few candidates in the window, ${stats.short.filtered} filtered)`,
    `skipped:   ${stats.skipped.margin} by margin, ${stats.skipped.relativeMargin} by relative margin, ${stats.skipped.maxScore} by max score`,
    `positives: ${stats.positive.retrieved} of ${stats.pairs} retrieved` +
      (stats.positive.meanRank === null ? '' : `, mean rank ${stats.positive.meanRank.toFixed(2)}`) +
      `; mean score ${score(stats.meanPositiveScore)} (negatives ${score(stats.meanNegativeScore)})`,
    `wrote ${out} (${stats.records} ${format} lines)`,
  ];
  return lines.join('\n') + '\n';
}
