import type { SequenceTokenizer } from '../../models/tokenizer.js';
import type { TrainRequest } from '../engine.js';
import { encodeTexts, stringField, type Loss } from './loss.js';

export interface PositivePair {
  query: string;
  positive: string;
}

/**
 * Bi-encoder with in-batch negatives: each query must find its own positive among every positive in the batch
 * (cross-entropy over scaled cosine similarities). Needs only positive pairs; larger batches give more negatives.
 */
export class MultipleNegativesRankingLoss implements Loss<PositivePair> {
  readonly name = 'mnrl' as const;
  readonly target = 'bi-encoder' as const;
  readonly fields = ['query', 'positive'] as const;

  /** `scale` multiplies the cosines before the softmax (sentence-transformers' default: 20). */
  constructor(readonly scale = 20) {}

  parseExample(raw: Record<string, unknown>, where: string): PositivePair {
    return { query: stringField(raw, 'query', where), positive: stringField(raw, 'positive', where) };
  }

  request(examples: readonly PositivePair[], tokenizer: SequenceTokenizer, maxLength: number): TrainRequest {
    return {
      loss: 'mnrl',
      anchors: encodeTexts(tokenizer, examples.map((e) => e.query), maxLength),
      positives: encodeTexts(tokenizer, examples.map((e) => e.positive), maxLength),
      scale: this.scale,
    };
  }
}
