import type { SequenceTokenizer } from '../models/tokenizer.js';
import { cosineSimilarity } from '../models/vectors.js';
import { sigmoid } from '../rank/cross-encoder.js';
import { checkRankInput, rankByScores, type RankedResults, type Ranker, type RankOptions } from '../rank/results.js';
import type { TorchBert } from './engine.js';
import type { LossTarget } from './losses/loss.js';

/**
 * Ranks with the model being trained, straight from libtorch (no export), so evaluations during training cost one
 * forward pass. Cross-encoder scores go through a sigmoid, as the exported model's default activation does.
 */
export class TorchRanker implements Ranker {
  constructor(
    readonly name: string,
    private readonly engine: TorchBert,
    private readonly tokenizer: SequenceTokenizer,
    private readonly target: LossTarget,
    private readonly maxLength: number,
  ) {}

  async rank(query: string, documents: readonly string[], options: RankOptions = {}): Promise<RankedResults> {
    checkRankInput(query, documents, options);
    let scores: number[];
    if (this.target === 'cross-encoder') {
      const batch = this.tokenizer.pad(documents.map((d) => this.tokenizer.encodePair(query, d, { maxLength: this.maxLength })));
      scores = Array.from(await this.engine.forward(batch), sigmoid);
    } else {
      const texts = [query, ...documents];
      const batch = this.tokenizer.pad(texts.map((t) => this.tokenizer.encodeSingle(t, { maxLength: this.maxLength })));
      const pooled = await this.engine.forward(batch);
      const dim = pooled.length / texts.length;
      const vectors = texts.map((_, i) => pooled.subarray(i * dim, (i + 1) * dim));
      scores = vectors.slice(1).map((v) => cosineSimilarity(vectors[0], v));
    }
    return rankByScores(query, documents, scores, this.name, options);
  }
}
