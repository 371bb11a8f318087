// rankwise/train: fine-tuning and distillation on the libtorch engine (the native addon: npm run build:native),
// hard-negative mining, adaptation to unlabelled documents and the built-in model's build.
export { buildDefaultModel, DEFAULT_MODEL_RECIPE, type DefaultModelBuild, type DefaultModelRecipe } from './default-reranker.js';
export { writeShippedModel, checkShippedModel, DEFAULT_FIXED_PAIRS, type WriteShippedModelOptions, type ShippedModelWrite } from '../rank/shipped-reranker.js';
export { TorchBert, evaluateLoss, engineInfo, type TrainRequest, type OptimizerOptions, type StepResult } from './engine.js';
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
} from './losses/index.js';
export { train, type TrainOptions, type TrainResult, type Evaluation } from './trainer.js';
export { fineTune, finalLoss, type FineTuneOptions, type FineTuneResult } from './fine-tune.js';
export { resolveTrainingConfig, DEFAULT_TRAINING_CONFIG, type TrainingConfig } from './training-config.js';
export { loadTrainableModel, type TrainableModel } from './trainable-model.js';
export { logitToSimilarity, teacherLogits } from './distill.js';
export { TorchRanker } from './torch-ranker.js';
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
} from './mine-hard-negatives.js';
export { makePseudoQueries, PSEUDO_QUERY_KINDS, type PseudoQuery, type PseudoQueryKind, type PseudoQueryOptions } from './pseudo-queries.js';
export { adapt, DEFAULT_ADAPT_RECIPE, type AdaptOptions, type AdaptResult, type AdaptRecipe } from './adapt.js';
