// The library API. The CLI (`rankwise ...`) is a thin layer over these exports.
export { CrossEncoder, type Activation, type CrossEncoderLoadOptions, type CrossEncoderParts, type CrossEncoderRankOptions, type PredictOptions } from './rank/cross-encoder.js';
export { OnnxScorer, type Scorer } from './rank/scorer.js';
export { EncoderRanker } from './rank/encoder-ranker.js';
export { loadRanker, BUILT_IN_MODELS, DEFAULT_RERANKER } from './rank/load-ranker.js';
export { loadSentenceEncoder, BUILT_IN_ENCODERS, DEFAULT_ENCODER } from './models/load-encoder.js';
export { buildDefaultModel, DEFAULT_MODEL_RECIPE, type DefaultModelBuild, type DefaultModelRecipe } from './train/default-reranker.js';
export {
  builtInModelFolder,
  crossEncoderFolderOf,
  materializeShippedModel,
  readShippedRecipe,
  shippedModelDir,
  verifyShippedModel,
  SHIPPED_MODELS,
  type Materialized,
  type MaterializeOptions,
  type ShippedRecipe,
} from './models/shipped-model.js';
export { writeShippedModel, checkShippedModel, DEFAULT_FIXED_PAIRS, type WriteShippedModelOptions, type ShippedModelWrite } from './rank/shipped-reranker.js';
export { UseLiteOnnxEncoder } from './models/use-lite/encoder.js';
export { UseLitePairTokenizer } from './models/use-lite/pair-tokenizer.js';
export { convertUseLite } from './models/use-lite/convert.js';
export type { SequenceTokenizer } from './models/tokenizer/index.js';
export { SearchService, type SearchRequest, type SearchResponse, type SearchHit } from './serve/search-service.js';
export { RequestBatcher, ScoreBatcher, QueueFullError } from './serve/batcher.js';
export { rankByScores, resultsInOrder, topResults, resultById, type RankedResult, type RankedResults, type ResultDocument, type Ranker, type RankOptions } from './rank/results.js';
export { toDocuments, type Document, type DocumentInput, type ScoredDocument } from './documents.js';
export type { DisposableResource } from './util/disposable.js';
export { BiEncoder, type EncodeOptions, type EncodeTokensOptions, type Pooling, type TokenEmbeddings } from './models/bi-encoder.js';
export { UseLiteEncoder } from './models/use-lite/tfjs-encoder.js';
export type { SentenceEncoder } from './models/sentence-encoder.js';
export { PairTokenizer, type Encoded, type PaddedBatch } from './models/tokenizer/index.js';
export { resolveModel, locateModel, ONNX_FILES, type LocatedModel, type ModelDtype, type ModelFolder, type ResolveModelOptions } from './models/model-folder.js';
export { familyFor, knownModelTypes, MODEL_FAMILIES } from './models/families.js';
export type { FamilyConfig, ModelFamily, TokenSentenceEncoder, TorchLayout } from './models/family.js';
export { builtInModel, BUILT_IN_MODEL_NAMES, type BuiltInModel } from './models/built-in-model.js';
export { defaultCacheDir, hubCacheFolder, type HubOptions } from './models/hub.js';
export { createFixtureModel, fixtureConfig, MINILM_L6_SHAPE, type FixtureKind, type FixtureOptions } from './models/fixture.js';
export { buildBertOnnx, writeBertOnnx, type BertOnnxOptions, type OnnxDtype } from './models/bert/graph.js';
export { parseSafetensors, readSafetensorsFile, serializeSafetensors, writeSafetensorsFile, numberToFloat16, float16ToNumber, type SafetensorsWriteDtype } from './models/safetensors.js';
export { initBertWeights } from './models/init-weights.js';
export type { BertConfig, ModelHead } from './models/config.js';
export type { Float32Tensor, TensorMap } from './models/tensors.js';
export { cosineSimilarity, dot, l2normalize } from './models/vectors.js';
export { kendallTau, rankingFromScores, topKOverlap } from './eval/agreement.js';
export { compareRankers, type Comparison, type CompareOptions } from './eval/compare.js';
export { evaluatePairwise, comparePairwise, parsePairwiseCase, type PairwiseCase, type PairwiseResult } from './eval/pairwise.js';
export { ndcgAtK, mrrAtK, averagePrecision, meanAveragePrecision, recallAtK, precisionAtK } from './eval/ir-metrics.js';
export { evaluateReranking, metricsByName } from './eval/rerank-evaluator.js';
export {
  formatAgreement,
  formatPairwiseComparison,
  formatPairwiseReport,
  formatPercentileRows,
  formatProfiles,
  formatQueueLevels,
  formatRanking,
  formatRealLoad,
  formatRerankReport,
  formatSimulation,
  formatStorageError,
  funnelTable,
  describeLlm,
  table,
} from './present/index.js';
export { TorchBert, evaluateLoss, engineInfo, type TrainRequest, type OptimizerOptions, type StepResult } from './train/engine.js';
export {
  BinaryCrossEntropyLoss,
  MSELoss,
  MarginMSELoss,
  CosineSimilarityLoss,
  MultipleNegativesRankingLoss,
  createLoss,
  describeLosses,
  lossNames,
  type Loss,
  type LossDescription,
  type LossName,
  type LossTarget,
} from './train/losses/index.js';
export { train, type TrainOptions, type TrainResult, type Evaluation } from './train/trainer.js';
export { fineTune, finalLoss, type FineTuneOptions, type FineTuneResult } from './train/fine-tune.js';
export { resolveTrainingConfig, DEFAULT_TRAINING_CONFIG, type TrainingConfig } from './train/training-config.js';
export { loadTrainableModel, type TrainableModel } from './train/trainable-model.js';
export { logitToSimilarity, teacherLogits } from './train/distill.js';
export { TorchRanker } from './train/torch-ranker.js';
export { writeModelFolder, copyTokenizerFrom } from './models/model-writer.js';
export { createServer, type ServeOptions, type RunningServer } from './serve/server.js';
export { LlmListwiseRanker, type LlmListwiseOptions, type LlmRankedResults, type LlmRankReport, type LlmWindowReport } from './rank/llm/listwise-ranker.js';
export { ProviderError, type ChatProvider, type ChatRequest, type JsonSchema } from './rank/llm/chat-provider.js';
export { OpenAICompatibleProvider, resolveEndpoint, OPENROUTER_BASE_URL, OPENROUTER_DEFAULT_MODEL, type OpenAICompatibleOptions } from './rank/llm/openai-compatible.js';
export { LlamaCppProvider, findDefaultGguf, type LlamaCppOptions } from './rank/llm/llama-cpp.js';
export { parseLlmSpec, createChatProvider, defaultLlmSpec, type LlmSpec } from './rank/llm/provider-spec.js';
export { RANKING_SCHEMA, rankingSchema } from './rank/llm/ranking-schema.js';
export { buildRankingPrompt, sanitizeForPrompt, type RankingPrompt } from './rank/llm/ranking-prompt.js';
export { parseRankingAnswer, validateRanking, type RankingRepairs, type ValidatedRanking } from './rank/llm/ranking-answer.js';
export { slidingWindows, rankWithSlidingWindow, type Window } from './rank/llm/sliding-window.js';
export { Retrier, backoffDelay, type RetryOptions } from './rank/llm/retry.js';
export { Funnel, type FunnelResult, type StageReport, type FunnelRunOptions } from './pipeline/funnel.js';
export { RetrieverStage, type RetrieverStageOptions } from './pipeline/retriever-stage.js';
export { RankerStage, type RankerStageOptions } from './pipeline/ranker-stage.js';
export type { Candidate, FunnelStage, StageRun } from './pipeline/stage.js';
export { countTiers, RELEVANCE_TIERS, type RelevanceTier, type TierCounts } from './pipeline/tiers.js';
export { parseStageSpecs, STAGE_KINDS, type StageKind, type StageSpec } from './pipeline/stage-spec.js';
export { buildFunnel, type BuildFunnelOptions, type FunnelSetup } from './pipeline/build-funnel.js';
export type { IndexedDocument, RetrievedDocument, Retriever, SearchMode, SearchOptions } from './retrieve/retriever.js';
export { LanceDbRetriever, type LanceDbOpenOptions, type LanceDbSearchOptions } from './retrieve/lancedb.js';
export { readLanceManifest, lanceManifestPath, DEFAULT_LANCE_TABLE, type LanceIndexManifest } from './retrieve/lance-manifest.js';
export { PostgresRetriever, type PostgresRetrieverOptions, type ExistingTable } from './retrieve/postgres.js';
export { reciprocalRankFusion, DEFAULT_RRF_K, type FusedItem } from './retrieve/rrf.js';
export { readCorpus, documentFromJson } from './retrieve/corpus.js';
export { TokenIndex, type IndexDocument, type TokenIndexOptions, type SearchOptions as TokenSearchOptions, type SearchHit as TokenSearchHit, type SearchResult as TokenSearchResult } from './rank/late-interaction/token-index.js';
export { maxSim, maxSimScores, maxSimScoresWith, MaxSimScorer, type MaxSimKernel, type TokenMatrix, type TokenBlock } from './rank/late-interaction/maxsim.js';
export { createDotEngine, type DotEngine, type DotEngineName } from './rank/late-interaction/dot-engine.js';
export { encodeTokens as encodeTokenVectors, decodeTokens as decodeTokenVectors, toFloat16Bits, type TokenEncoding } from './rank/late-interaction/compact-vectors.js';
export { loadLateInteractionEncoder, SentenceTokenEncoder, isColBertFolder, DEFAULT_LATE_INTERACTION_ENCODER, type LateInteractionEncoder } from './rank/late-interaction/encoder.js';
export { ColBertEncoder, readColBertSettings, type ColBertSettings } from './rank/late-interaction/colbert.js';
export { createFixtureColBert, type ColBertFixtureOptions } from './rank/late-interaction/colbert-fixture.js';
export { LateInteractionRanker } from './rank/late-interaction/ranker.js';
export { loadRankerOrLateInteraction } from './rank/late-interaction/load.js';
export { LATE_INTERACTION_PREFIX } from './rank/load-ranker.js';
export { percentile, summarizeLatencies, collectServiceTimes, type LatencySummary } from './eval/latency.js';
export { simulateQueue, simulateLevels, theoreticalMeanWaitMs, parseServiceTimes, type QueueLevelResult, type ArrivalProcess } from './eval/queue-simulation.js';
export { runLoadTest, type LoadTestResult } from './eval/load-test.js';
export { profileService, type ServiceProfile, type ProfileOptions } from './eval/latency-profile.js';
export { latencyReportHtml, writeLatencyReport, type LatencyReport } from './present/latency-report-svg.js';
export { compareRankings, agreementOfScores, type AgreementReport } from './eval/late-interaction-agreement.js';
export { storageError, storageErrorOfTokens, type StorageError } from './eval/compact-storage-error.js';
export {
  SemanticCache,
  DEFAULT_CACHE_THRESHOLD,
  cacheKey,
  type SemanticCacheOptions,
  type LookupResult,
  type LookupStrategy,
  type LookupTimings,
  type CacheMatch,
  type CacheStats,
  type StoreOptions,
  type VetoedCandidate,
} from './cache/semantic-cache.js';
export type { CacheStore, CacheCounters, StoredEntry, NewEntry, StoreMeta } from './cache/store.js';
export { SqliteCacheStore } from './cache/sqlite-store.js';
export { RedisCacheStore, type RedisStoreOptions } from './cache/redis-store.js';
export { VectorIndex, type VectorIndexOptions, type Neighbour } from './cache/vector-index.js';
export { CosineVerifier, CrossEncoderVerifier, type Verifier, type VerifyItem } from './cache/verifier.js';
export { contradiction, type Guard, type GuardVeto, type GuardRule } from './cache/guards.js';
export {
  calibrateThreshold,
  scorePairs,
  evaluateThreshold,
  sweepThresholds,
  parseLabelledPair,
  type LabelledPair,
  type ScoredPair,
  type ThresholdPoint,
  type Calibration,
  type CalibrationObjective,
} from './cache/calibrate.js';
export {
  simulateCache,
  sweepSimulation,
  parseSimulationQueries,
  memoizeEncoder,
  type SimulationQuery,
  type SimulationResult,
  type SimulationRow,
  type SimulationSummary,
  type SweepRow,
} from './cache/simulate.js';

// Relevance on real collections: BEIR-format evaluation, BM25, fusion, mining, adaptation without labels.
export { readBeirCollection, readBeirQrels, type BeirCollection, type BeirQuery } from './eval/beir-collection.js';
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
} from './eval/beir.js';
export { analyze, bm25Statistics, Bm25Index, Bm25Scorer, DEFAULT_BM25, type Bm25Statistics, type Bm25Parameters } from './retrieve/bm25.js';
export { fuseScores, standardize, FUSION_METHODS, DEFAULT_FUSION_WEIGHT, type FusionMethod, type FusionOptions } from './rank/fusion.js';
export {
  HybridRanker,
  HYBRID_MODEL_TYPE,
  HYBRID_COMBINATIONS,
  readHybridConfig,
  type HybridCombination,
  type HybridConfig,
  type HybridSignal,
  type HybridSignalSpec,
} from './rank/hybrid-ranker.js';
export {
  applyPlatt,
  fitLogisticRegression,
  fitPlattScaling,
  reliabilityTable,
  type LogisticModel,
  type PlattScaling,
  type Reliability,
  type ReliabilityBin,
} from './eval/calibration.js';
export {
  mineHardNegatives,
  MINING_RETRIEVERS,
  MINING_FORMATS,
  MINING_SAMPLING,
  type MineHardNegativesOptions,
  type MiningPair,
  type MiningPositive,
  type MiningResult,
  type MiningStats,
  type MinedRecord,
  type TripletRecord,
  type NTupleRecord,
  type LabeledPairRecord,
  type MiningRetriever,
  type MiningFormat,
  type MiningSampling,
} from './train/mine-hard-negatives.js';
export { makePseudoQueries, PSEUDO_QUERY_KINDS, type PseudoQuery, type PseudoQueryKind, type PseudoQueryOptions } from './train/pseudo-queries.js';
export { adapt, DEFAULT_ADAPT_RECIPE, type AdaptOptions, type AdaptResult, type AdaptRecipe } from './train/adapt.js';
