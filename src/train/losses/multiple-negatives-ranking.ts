import type { PaddedBatch, SequenceTokenizer } from '../../models/tokenizer/index.js';
import { encodeTexts, stringField, type Loss } from './loss.js';

export interface PositivePair {
  query: string;
  positive: string;
}

/** Bi-encoder: cross-entropy over scale * cos(anchor_i, positive_j) with label i (in-batch negatives). */
export interface MultipleNegativesRankingRequest {
  loss: MultipleNegativesRankingLoss['name'];
  anchors: PaddedBatch;
  positives: PaddedBatch;
  scale: number;
}

/**
 * Bi-encoder with in-batch negatives: each query must find its own positive among every positive in the batch
 * (cross-entropy over scaled cosine similarities). Needs only positive pairs; larger batches give more negatives.
 */
export class MultipleNegativesRankingLoss implements Loss<PositivePair, MultipleNegativesRankingRequest> {
  readonly name = 'mnrl' as const;
  readonly target = 'bi-encoder' as const;
  readonly learnsFrom = 'positive pairs' as const;
  readonly description = "multiple negatives ranking: each query must find its own positive among the batch's positives (in-batch negatives)";
  readonly fields = ['query', 'positive'] as const;
  readonly evaluationInputs = ['a', 'b', 'dim', 'scale'] as const;

  /** `scale` multiplies the cosines before the softmax (sentence-transformers' default: 20). */
  constructor(readonly scale = 20) {}

  parseExample(raw: Record<string, unknown>, where: string): PositivePair {
    return { query: stringField(raw, 'query', where), positive: stringField(raw, 'positive', where) };
  }

  request(examples: readonly PositivePair[], tokenizer: SequenceTokenizer, maxLength: number): MultipleNegativesRankingRequest {
    return {
      loss: this.name,
      anchors: encodeTexts(tokenizer, examples.map((e) => e.query), maxLength),
      positives: encodeTexts(tokenizer, examples.map((e) => e.positive), maxLength),
      scale: this.scale,
    };
  }
}
