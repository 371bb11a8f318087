export { BinaryCrossEntropyLoss, type BinaryCrossEntropyRequest, type LabelledPair } from './binary-cross-entropy.js';
export { CosineSimilarityLoss, type CosineSimilarityRequest, type SimilarityPair } from './cosine-similarity.js';
export type { Loss, LossRequest, LossSupervision, LossTarget } from './loss.js';
export { MarginMSELoss, type MarginMSERequest, type MarginTriple } from './margin-mse.js';
export { MSELoss, type MSERequest, type ScoredPair } from './mse.js';
export { MultipleNegativesRankingLoss, type MultipleNegativesRankingRequest, type PositivePair } from './multiple-negatives-ranking.js';
export {
  createLoss,
  describeLoss,
  describeLosses,
  isLossName,
  lossNames,
  type LossDescription,
  type LossName,
  type RegisteredLoss,
  type TrainRequest,
} from './registry.js';
