// rankwise/eval: evaluation (BEIR-format relevance, pairwise agreement, calibration) and latency analysis.
export { ndcgAtK, mrrAtK, averagePrecision, meanAveragePrecision, recallAtK, precisionAtK } from './ir-metrics.js';
export { kendallTau, rankingFromScores, topKOverlap } from './agreement.js';
export { compareRankers, type Comparison, type CompareOptions } from './compare.js';
export { evaluatePairwise, comparePairwise, parsePairwiseCase, readPairwiseCases, type PairwiseCase, type PairwiseResult } from './pairwise.js';
export { evaluateReranking, metricsByName, type RerankEvaluation, type RerankEvalOptions, type RerankQuery, type RerankQueryResult } from './rerank-evaluator.js';
export { percentile, summarizeLatencies, collectServiceTimes, type LatencySummary } from './latency.js';
export { simulateQueue, simulateLevels, theoreticalMeanWaitMs, parseServiceTimes, type QueueLevelResult, type ArrivalProcess } from './queue-simulation.js';
export { runLoadTest, type LoadTestResult } from './load-test.js';
export { profileService, type ServiceProfile, type ProfileOptions } from './latency-profile.js';
export { readBeirCollection, readBeirQrels, type BeirCollection, type BeirQuery } from './beir-collection.js';
export {
  evaluateBeir,
  beirMetrics,
  trecOrder,
  formatTrecRun,
  defaultBeirIndexDir,
  FIRST_STAGES,
  BEIR_METRIC_NAMES,
  type BeirEvaluation,
  type BeirEvaluationOptions,
  type BeirMetrics,
  type BeirQueryResult,
  type FirstStage,
  type ScoredId,
} from './beir.js';
export {
  applyPlatt,
  fitLogisticRegression,
  fitPlattScaling,
  reliabilityTable,
  type LogisticModel,
  type PlattScaling,
  type Reliability,
  type ReliabilityBin,
} from './calibration.js';
