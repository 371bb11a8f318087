// The library API. The CLI (`rankwise ...`) is a thin layer over these exports.
export { CrossEncoder, type Activation, type CrossEncoderLoadOptions, type CrossEncoderRankOptions, type PredictOptions } from './rank/cross-encoder.js';
export { EncoderRanker } from './rank/encoder-ranker.js';
export { loadRanker, BUILT_IN_MODELS, DEFAULT_RERANKER } from './rank/load-ranker.js';
export { loadSentenceEncoder, BUILT_IN_ENCODERS, DEFAULT_ENCODER } from './models/load-encoder.js';
export { rankByScores, type RankedResult, type RankedResults, type Ranker, type RankOptions } from './rank/results.js';
export { BiEncoder, type EncodeOptions, type EncodeTokensOptions, type Pooling, type TokenEmbeddings } from './models/bi-encoder.js';
export { UseLiteEncoder } from './models/use-lite.js';
export type { SentenceEncoder } from './models/sentence-encoder.js';
export { PairTokenizer, type Encoded, type PaddedBatch } from './models/tokenizer.js';
export { resolveModel, ONNX_FILES, type ModelDtype, type ModelFolder, type ResolveModelOptions } from './models/model-folder.js';
export { defaultCacheDir, hubCacheFolder, type HubOptions } from './models/hub.js';
export { createFixtureModel, fixtureConfig, MINILM_L6_SHAPE, type FixtureKind, type FixtureOptions } from './models/fixture.js';
export { buildBertOnnx, writeBertOnnx, type BertOnnxOptions, type OnnxDtype } from './models/onnx/bert-graph.js';
export { parseSafetensors, readSafetensorsFile, serializeSafetensors, writeSafetensorsFile } from './models/safetensors.js';
export { initBertWeights } from './models/init-weights.js';
export type { BertConfig, ModelHead } from './models/config.js';
export type { Float32Tensor, TensorMap } from './models/tensors.js';
export { cosineSimilarity, dot, l2normalize } from './models/vectors.js';
export { kendallTau, rankingFromScores, topKOverlap } from './eval/agreement.js';
export { compareRankers, type Comparison, type CompareOptions } from './eval/compare.js';
export { evaluatePairwise, comparePairwise, formatPairwiseReport, formatPairwiseComparison, parsePairwiseCase, type PairwiseCase, type PairwiseResult } from './eval/pairwise.js';
export { ndcgAtK, mrrAtK, averagePrecision, meanAveragePrecision, recallAtK, precisionAtK } from './eval/ir-metrics.js';
export { evaluateReranking, formatRerankReport, metricsByName } from './eval/rerank-evaluator.js';
export { TorchBert, evaluateLoss, engineInfo, type TrainRequest, type OptimizerOptions, type StepResult } from './train/engine.js';
export {
  BinaryCrossEntropyLoss,
  MSELoss,
  MarginMSELoss,
  CosineSimilarityLoss,
  MultipleNegativesRankingLoss,
  type Loss,
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
