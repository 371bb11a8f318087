import type { SentenceEncoder } from '../models/sentence-encoder.js';
import { dot } from '../models/vectors.js';
import { checkRankInput, rankByScores, type RankedResults, type Ranker, type RankOptions } from './results.js';

/** Ranks by cosine similarity of separately computed embeddings: the bi-encoder first stage, or a reranker of last resort. */
export class EncoderRanker implements Ranker {
  constructor(readonly encoder: SentenceEncoder) {}

  get name(): string {
    return this.encoder.name;
  }

  async rank(query: string, documents: readonly string[], options: RankOptions & { batchSize?: number } = {}): Promise<RankedResults> {
    checkRankInput(query, documents, options);
    const [queryVector, ...docVectors] = await this.encoder.encode([query, ...documents], {
      normalize: true,
      batchSize: options.batchSize,
    });
    const scores = docVectors.map((v) => dot(queryVector, v));
    return rankByScores(query, documents, scores, this.name, options);
  }

  async dispose(): Promise<void> {
    await this.encoder.dispose?.();
  }
}
