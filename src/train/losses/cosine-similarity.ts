import type { PaddedBatch, SequenceTokenizer } from '../../models/tokenizer/index.js';
import { encodeTexts, numberField, stringField, type Loss } from './loss.js';

export interface SimilarityPair {
  query: string;
  document: string;
  /** Target cosine similarity of the two embeddings, in [-1, 1]. */
  score: number;
}

/** Bi-encoder: MSE(cos(u, v), target). */
export interface CosineSimilarityRequest {
  loss: CosineSimilarityLoss['name'];
  a: PaddedBatch;
  b: PaddedBatch;
  targets: Float32Array;
}

/** Bi-encoder: mean squared error between cos(embed(query), embed(document)) and the target similarity. */
export class CosineSimilarityLoss implements Loss<SimilarityPair, CosineSimilarityRequest> {
  readonly name = 'cosine' as const;
  readonly target = 'bi-encoder' as const;
  readonly learnsFrom = 'similarities' as const;
  readonly description = 'mean squared error between the cosine of the two embeddings and the target similarity (score in [-1, 1])';
  readonly fields = ['query', 'document', 'score'] as const;
  readonly evaluationInputs = ['a', 'b', 'dim', 'targets'] as const;

  parseExample(raw: Record<string, unknown>, where: string): SimilarityPair {
    return { query: stringField(raw, 'query', where), document: stringField(raw, 'document', where), score: numberField(raw, 'score', where, -1, 1) };
  }

  request(examples: readonly SimilarityPair[], tokenizer: SequenceTokenizer, maxLength: number): CosineSimilarityRequest {
    return {
      loss: this.name,
      a: encodeTexts(tokenizer, examples.map((e) => e.query), maxLength),
      b: encodeTexts(tokenizer, examples.map((e) => e.document), maxLength),
      targets: Float32Array.from(examples, (e) => e.score),
    };
  }
}
