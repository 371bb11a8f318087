import { EmbeddingCache } from '../models/embedding-cache.js';
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import { dot } from '../models/vectors.js';
import type { DocumentInput } from '../documents.js';
import { checkRankInput, rankByScores, type RankedResults, type Ranker, type RankOptions } from './results.js';

/** Ranks by cosine similarity of separately computed embeddings: the bi-encoder first stage, or a reranker of last resort. */
export class EncoderRanker implements Ranker {
  /** Document vectors already computed, reused when a document is ranked again (`cacheSize` texts, default 20,000; 0 turns it off). */
  private readonly cache: EmbeddingCache;

  constructor(
    readonly encoder: SentenceEncoder,
    options: { cacheSize?: number } = {},
  ) {
    this.cache = new EmbeddingCache(options.cacheSize);
  }

  get name(): string {
    return this.encoder.name;
  }

  async rank(query: string, documents: readonly DocumentInput[], options: RankOptions & { batchSize?: number } = {}): Promise<RankedResults> {
    const checked = checkRankInput(query, documents, options);
    const scores = await this.scores(query, checked.map((d) => d.text), options.batchSize);
    return rankByScores(query, checked, scores, this.name, options);
  }

  /** Cosine of the query with each document, in input order. */
  async scores(query: string, documents: readonly string[], batchSize?: number): Promise<number[]> {
    const [queryVector, ...docVectors] = await this.cache.encode(this.encoder, [query, ...documents], batchSize);
    return docVectors.map((v) => dot(queryVector, v));
  }

  async dispose(): Promise<void> {
    await this.encoder.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
