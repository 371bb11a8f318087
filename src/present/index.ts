/**
 * The presentation module: text tables, number formatting and the CLI's snake_case JSON shapes. Core modules return
 * data; the CLI, the examples and the benches turn it into text here.
 */
export { formatAgreement } from './agreement-report.js';
export { encodingJson, formatEncoding } from './encoding.js';
export { beirJson, formatBeirReport } from './beir-report.js';
export { formatCacheStats, formatCalibration, formatSimulation, formatSweep, formatThresholdPoints, pointJson, simulationJson, sweepJson } from './cache-report.js';
export { describeLlm, funnelStagesJson, funnelTable } from './funnel-table.js';
export { formatProfiles, formatRealLoad, profileJson, summaryJson } from './latency-profile-report.js';
export { latencyReportHtml, writeLatencyReport, type LatencyReport } from './latency-report-svg.js';
export { formatPercentileRows } from './latency-table.js';
export { formatTrainingLines, lossTableMarkdown, trainingLine } from './loss-table.js';
export { formatMiningStats, miningStatsJson } from './mining-report.js';
export { formatPairwiseComparison, formatPairwiseReport, pairwiseJson, pairwiseSummaryJson } from './pairwise-report.js';
export { formatQueueLevels, levelJson } from './queue-report.js';
export { formatRanking } from './ranking.js';
export { relativeChange } from './relative-change.js';
export { formatRerankReport } from './rerank-report.js';
export { formatStorageError } from './storage-error-report.js';
export { table } from './table.js';
export { ellipsis } from './text.js';
