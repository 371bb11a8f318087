// rankwise's core: cross-encoders, bi-encoders, the built-in models, model folders and families, tokenizers, BM25 and
// the hybrid ranker, and the relevance metrics. It needs onnxruntime-node and nothing optional; the rest of the library
// is behind subpath exports (rankwise/retrieve, /cache, /serve, /llm, /train, /eval, /pipeline, /late-interaction,
// /present and the framework adapters), whose optional packages load only when used.
export { CrossEncoder, type Activation, type CrossEncoderLoadOptions, type CrossEncoderParts, type CrossEncoderRankOptions, type PredictOptions } from './rank/cross-encoder.js';
export { OnnxScorer, type Scorer } from './rank/scorer.js';
export { EncoderRanker } from './rank/encoder-ranker.js';
export { loadRanker, BUILT_IN_MODELS, DEFAULT_RERANKER } from './rank/load-ranker.js';
export { loadSentenceEncoder, BUILT_IN_ENCODERS, DEFAULT_ENCODER } from './models/load-encoder.js';
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
export { UseLiteOnnxEncoder } from './models/use-lite/encoder.js';
export { UseLitePairTokenizer } from './models/use-lite/pair-tokenizer.js';
export { convertUseLite } from './models/use-lite/convert.js';
export type { SequenceTokenizer } from './models/tokenizer/index.js';
export {
  RankwiseError,
  InputError,
  ModelNotFoundError,
  ModelInvalidError,
  BackendUnavailableError,
  StoreError,
  ProviderError,
  OverloadedError,
  ERROR_KINDS,
  errorCodeOf,
  exitCodeOf,
  type ErrorCode,
} from './errors.js';
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
export { ndcgAtK, mrrAtK, averagePrecision, meanAveragePrecision, recallAtK, precisionAtK } from './eval/ir-metrics.js';
export { writeModelFolder, copyTokenizerFrom } from './models/model-writer.js';
export { LATE_INTERACTION_PREFIX } from './rank/load-ranker.js';
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
export { readJsonLines, type JsonLine } from './util/jsonl.js';
