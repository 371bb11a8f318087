/**
 * Late interaction as a `Ranker`: documents are encoded once (the index step) and kept; each `rank` call encodes
 * only the query and scores it against the kept document tokens with MaxSim.
 */
import type { TokenEmbeddings } from '../../models/bi-encoder.js';
import { toDocuments, type DocumentInput } from '../../documents.js';
import { checkRankInput, rankByScores, type RankedResults, type Ranker, type RankOptions } from '../results.js';
import type { LateInteractionEncoder } from './encoder.js';
import { MaxSimScorer, type MaxSimKernel, type TokenBlock } from './maxsim.js';
import { InputError } from '../../errors.js';

/** Documents stored back to back, as MaxSim scores them. */
export function tokenBlock(documents: readonly TokenEmbeddings[], dimension: number): TokenBlock {
  const starts = new Int32Array(documents.length + 1);
  documents.forEach((d, i) => {
    if (d.dimension !== dimension) throw new InputError(`documents[${i}]: tokens have dimension ${d.dimension}, expected ${dimension}`);
    starts[i + 1] = starts[i] + d.count;
  });
  const vectors = new Float32Array(starts[documents.length] * dimension);
  documents.forEach((d, i) => vectors.set(d.vectors, starts[i] * dimension));
  return { vectors, starts, dimension };
}

export class LateInteractionRanker implements Ranker {
  private readonly documentTokens = new Map<string, TokenEmbeddings>();
  private block: { key: string; block: TokenBlock } | undefined;

  private readonly scorer: MaxSimScorer;

  constructor(
    readonly encoder: LateInteractionEncoder,
    options: { kernel?: MaxSimKernel; threads?: number } = {},
  ) {
    this.scorer = new MaxSimScorer(options.kernel ?? 'auto', options.threads);
  }

  get name(): string {
    return `late-interaction:${this.encoder.name}`;
  }

  /** Encodes documents ahead of time (the one-time index step); later `rank` calls reuse them. Returns the time taken in ms. */
  async indexDocuments(documents: readonly DocumentInput[]): Promise<number> {
    const start = performance.now();
    const texts = toDocuments(documents).map((d) => d.text);
    const missing = [...new Set(texts.filter((d) => !this.documentTokens.has(d)))];
    if (missing.length > 0) {
      const encoded = await this.encoder.encodeDocuments(missing);
      missing.forEach((text, i) => this.documentTokens.set(text, encoded[i]));
    }
    return performance.now() - start;
  }

  /** MaxSim score of each document, in input order. */
  async scores(query: string, documents: readonly string[]): Promise<Float32Array> {
    await this.indexDocuments(documents);
    const [queryTokens] = await this.encoder.encodeQueries([query]);
    if (queryTokens.count === 0) return new Float32Array(documents.length);
    return this.scorer.score(queryTokens, this.blockFor(documents));
  }

  async rank(query: string, documents: readonly DocumentInput[], options: RankOptions = {}): Promise<RankedResults> {
    const checked = checkRankInput(query, documents, options);
    return rankByScores(query, checked, await this.scores(query, checked.map((d) => d.text)), this.name, options);
  }

  /** The same document list is scored again and again in a service; its block is built once. */
  private blockFor(documents: readonly string[]): TokenBlock {
    const key = documents.join('\u0000');
    if (this.block?.key !== key) {
      this.block = { key, block: tokenBlock(documents.map((d) => this.documentTokens.get(d)!), this.encoder.dimension) };
    }
    return this.block.block;
  }

  async dispose(): Promise<void> {
    await this.scorer.dispose();
    await this.encoder.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
