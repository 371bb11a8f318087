import type { SequenceTokenizer } from '../../models/tokenizer.js';
import type { TrainRequest } from '../engine.js';
import { encodeTexts, numberField, stringField, type Loss } from './loss.js';

export interface SimilarityPair {
  query: string;
  document: string;
  /** Target cosine similarity of the two embeddings, in [-1, 1]. */
  score: number;
}

/** Bi-encoder: mean squared error between cos(embed(query), embed(document)) and the target similarity. */
export class CosineSimilarityLoss implements Loss<SimilarityPair> {
  readonly name = 'cosine' as const;
  readonly target = 'bi-encoder' as const;
  readonly fields = ['query', 'document', 'score'] as const;

  parseExample(raw: Record<string, unknown>, where: string): SimilarityPair {
    return { query: stringField(raw, 'query', where), document: stringField(raw, 'document', where), score: numberField(raw, 'score', where, -1, 1) };
  }

  request(examples: readonly SimilarityPair[], tokenizer: SequenceTokenizer, maxLength: number): TrainRequest {
    return {
      loss: 'cosine',
      a: encodeTexts(tokenizer, examples.map((e) => e.query), maxLength),
      b: encodeTexts(tokenizer, examples.map((e) => e.document), maxLength),
      targets: Float32Array.from(examples, (e) => e.score),
    };
  }
}
