// rankwise/pipeline: the multi-stage funnel (retrieve, rerank, LLM list-wise rerank).
export { Funnel, type FunnelResult, type StageReport, type FunnelRunOptions } from './funnel.js';
export { RetrieverStage, type RetrieverStageOptions } from './retriever-stage.js';
export { RankerStage, type RankerStageOptions } from './ranker-stage.js';
export type { Candidate, FunnelStage, StageRun } from './stage.js';
export { countTiers, stageTiers, RELEVANCE_TIERS, type RelevanceTier, type TierCounts } from './tiers.js';
export { parseStageSpecs, STAGE_KINDS, type StageKind, type StageSpec } from './stage-spec.js';
export { buildFunnel, type BuildFunnelOptions, type FunnelSetup } from './build-funnel.js';
