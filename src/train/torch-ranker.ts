import type { PaddedBatch, SequenceTokenizer } from '../models/tokenizer/index.js';
import { cosineSimilarity } from '../models/vectors.js';
import { CrossEncoder, type LabelConfig } from '../rank/cross-encoder.js';
import type { Scorer } from '../rank/scorer.js';
import type { DocumentInput } from '../documents.js';
import { checkRankInput, rankByScores, type RankedResults, type Ranker, type RankOptions } from '../rank/results.js';
import type { TorchBert } from './engine.js';
import type { LossTarget } from './losses/loss.js';

/** The model being trained as a cross-encoder's backend: libtorch's forward pass in eval mode gives the logits. */
export class TorchScorer implements Scorer {
  constructor(private readonly engine: TorchBert) {}

  logits(batch: PaddedBatch): Promise<Float32Array> {
    return this.engine.forward(batch);
  }

  /** The engine belongs to the trainer, which frees it. */
  async dispose(): Promise<void> {}
}

/**
 * Ranks with the model being trained, straight from libtorch (no export), so evaluations during training cost one
 * forward pass. A cross-encoder target is scored by a {@link CrossEncoder} over a {@link TorchScorer}: the same
 * tokenization, batching and activation (the model config's) as the exported model gets from `rank()`.
 */
export class TorchRanker implements Ranker {
  private readonly crossEncoder: CrossEncoder | undefined;

  constructor(
    readonly name: string,
    private readonly engine: TorchBert,
    private readonly tokenizer: SequenceTokenizer,
    target: LossTarget,
    private readonly maxLength: number,
    /** The trained model's config: its labels and activation (a cross-encoder target only). */
    config: LabelConfig = {},
  ) {
    this.crossEncoder =
      target === 'cross-encoder' ? new CrossEncoder({ name, tokenizer, scorer: new TorchScorer(engine), maxLength, config }) : undefined;
  }

  async rank(query: string, inputs: readonly DocumentInput[], options: RankOptions = {}): Promise<RankedResults> {
    if (this.crossEncoder) return this.crossEncoder.rank(query, inputs, options);
    const documents = checkRankInput(query, inputs, options);
    const texts = [query, ...documents.map((d) => d.text)];
    const batch = this.tokenizer.pad(texts.map((t) => this.tokenizer.encodeSingle(t, { maxLength: this.maxLength })));
    const pooled = await this.engine.forward(batch);
    const dim = pooled.length / texts.length;
    const vectors = texts.map((_, i) => pooled.subarray(i * dim, (i + 1) * dim));
    const scores = vectors.slice(1).map((v) => cosineSimilarity(vectors[0], v));
    return rankByScores(query, documents, scores, this.name, options);
  }

  /** The engine belongs to the trainer, which frees it. */
  async dispose(): Promise<void> {}

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
