import type { PaddedBatch, SequenceTokenizer } from '../../models/tokenizer/index.js';
import { encodePairs, numberField, stringField, type Loss } from './loss.js';

export interface MarginTriple {
  query: string;
  positive: string;
  negative: string;
  /** The teacher's score of the positive minus its score of the negative. */
  margin: number;
}

/** MSE(s_pos - s_neg, margin) on the logits. */
export interface MarginMSERequest {
  loss: MarginMSELoss['name'];
  positives: PaddedBatch;
  negatives: PaddedBatch;
  margins: Float32Array;
}

/**
 * Margin-MSE (Hofstätter et al.): the student learns the teacher's margin between a positive and a negative,
 * not the absolute scores, so teachers and students on different scales can still be paired.
 */
export class MarginMSELoss implements Loss<MarginTriple, MarginMSERequest> {
  readonly name = 'margin-mse' as const;
  readonly target = 'cross-encoder' as const;
  readonly learnsFrom = 'margins' as const;
  readonly description = "mean squared error to a teacher's margin between a positive and a negative (Hofstätter et al.)";
  readonly fields = ['query', 'positive', 'negative', 'margin'] as const;
  readonly evaluationInputs = ['positives', 'negatives', 'targets'] as const;

  parseExample(raw: Record<string, unknown>, where: string): MarginTriple {
    return {
      query: stringField(raw, 'query', where),
      positive: stringField(raw, 'positive', where),
      negative: stringField(raw, 'negative', where),
      margin: numberField(raw, 'margin', where, -1e6, 1e6),
    };
  }

  request(examples: readonly MarginTriple[], tokenizer: SequenceTokenizer, maxLength: number): MarginMSERequest {
    return {
      loss: this.name,
      positives: encodePairs(tokenizer, examples.map((e) => [e.query, e.positive] as const), maxLength),
      negatives: encodePairs(tokenizer, examples.map((e) => [e.query, e.negative] as const), maxLength),
      margins: Float32Array.from(examples, (e) => e.margin),
    };
  }
}
