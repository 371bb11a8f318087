import type { PaddedBatch, SequenceTokenizer } from '../../models/tokenizer/index.js';
import { encodePairs, numberField, stringField, type Loss } from './loss.js';

export interface LabelledPair {
  query: string;
  document: string;
  /** 1 when the document answers the query, 0 when it does not (soft labels in between are allowed). */
  label: number;
}

/** BCEWithLogits on the one logit. */
export interface BinaryCrossEntropyRequest {
  loss: BinaryCrossEntropyLoss['name'];
  batch: PaddedBatch;
  labels: Float32Array;
}

/** Binary cross-entropy on the cross-encoder's logit: the source article's fine-tuning on labelled legal pairs. */
export class BinaryCrossEntropyLoss implements Loss<LabelledPair, BinaryCrossEntropyRequest> {
  readonly name = 'bce' as const;
  readonly target = 'cross-encoder' as const;
  readonly learnsFrom = 'binary labels' as const;
  readonly description = 'binary cross-entropy on the logit: fine-tuning on labelled pairs (label 1 relevant, 0 not; soft labels allowed)';
  readonly fields = ['query', 'document', 'label'] as const;
  readonly evaluationInputs = ['scores', 'targets'] as const;

  parseExample(raw: Record<string, unknown>, where: string): LabelledPair {
    return { query: stringField(raw, 'query', where), document: stringField(raw, 'document', where), label: numberField(raw, 'label', where, 0, 1) };
  }

  request(examples: readonly LabelledPair[], tokenizer: SequenceTokenizer, maxLength: number): BinaryCrossEntropyRequest {
    return {
      loss: this.name,
      batch: encodePairs(tokenizer, examples.map((e) => [e.query, e.document] as const), maxLength),
      labels: Float32Array.from(examples, (e) => e.label),
    };
  }
}
