import type { PaddedBatch, SequenceTokenizer } from '../../models/tokenizer/index.js';
import { encodePairs, numberField, stringField, type Loss } from './loss.js';

export interface ScoredPair {
  query: string;
  document: string;
  /** The teacher's score for the pair, which the student learns to reproduce. */
  score: number;
}

/** MSE(act(logit), target); activation 'none' by default. */
export interface MSERequest {
  loss: MSELoss['name'];
  batch: PaddedBatch;
  targets: Float32Array;
  activation?: 'none' | 'sigmoid';
}

/**
 * Mean squared error between the student's score and a teacher's: distillation with soft scores. With
 * `activation: 'sigmoid'` the student's logit goes through a sigmoid first, for teacher scores in [0, 1]; with
 * `'none'` (the default) the student learns the teacher's logits directly.
 */
export class MSELoss implements Loss<ScoredPair, MSERequest> {
  readonly name = 'mse' as const;
  readonly target = 'cross-encoder' as const;
  readonly learnsFrom = 'teacher scores' as const;
  readonly description = "mean squared error to a teacher's score: distillation with soft scores (a --teacher fills in missing ones)";
  readonly fields = ['query', 'document', 'score'] as const;
  readonly evaluationInputs = ['scores', 'targets'] as const;

  constructor(readonly activation: 'none' | 'sigmoid' = 'none') {}

  parseExample(raw: Record<string, unknown>, where: string): ScoredPair {
    const [min, max] = this.activation === 'sigmoid' ? [0, 1] : [-1e6, 1e6];
    return { query: stringField(raw, 'query', where), document: stringField(raw, 'document', where), score: numberField(raw, 'score', where, min, max) };
  }

  request(examples: readonly ScoredPair[], tokenizer: SequenceTokenizer, maxLength: number): MSERequest {
    return {
      loss: this.name,
      batch: encodePairs(tokenizer, examples.map((e) => [e.query, e.document] as const), maxLength),
      targets: Float32Array.from(examples, (e) => e.score),
      activation: this.activation,
    };
  }
}
