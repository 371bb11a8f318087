export { BinaryCrossEntropyLoss, type LabelledPair } from './binary-cross-entropy.js';
export { CosineSimilarityLoss, type SimilarityPair } from './cosine-similarity.js';
export type { Loss, LossTarget } from './loss.js';
export { MarginMSELoss, type MarginTriple } from './margin-mse.js';
export { MSELoss, type ScoredPair } from './mse.js';
export { MultipleNegativesRankingLoss, type PositivePair } from './multiple-negatives-ranking.js';
