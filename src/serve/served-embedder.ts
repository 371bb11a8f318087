import { BiEncoder } from '../models/bi-encoder.js';
import { loadSentenceEncoder } from '../models/load-encoder.js';
import type { ModelDtype } from '../models/model-folder.js';
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import { l2normalize } from '../models/vectors.js';
import { RequestBatcher, type BatcherOptions } from './batcher.js';
import { checkTexts, withTimeout, type TextLimits } from './http-errors.js';

export interface ModelLoadOptions {
  dtype?: ModelDtype;
  threads?: number;
}

/**
 * The embedding model behind /embed and /v1/embeddings. Texts from concurrent requests share encoder calls; vectors
 * come back raw and each request normalises its own, since one request may ask for normalize: false and another not.
 */
export class ServedEmbedder {
  private readonly batcher: RequestBatcher<string, Float32Array>;

  private constructor(
    private readonly encoder: SentenceEncoder,
    batching: BatcherOptions,
    private readonly limits: TextLimits & { requestTimeoutMs: number },
  ) {
    this.batcher = new RequestBatcher<string, Float32Array>(
      (texts) => encoder.encode(texts, { normalize: false, batchSize: 64 }),
      (text) => this.tokens(text),
      batching,
    );
  }

  static async load(model: string, load: ModelLoadOptions, batching: BatcherOptions, limits: TextLimits & { requestTimeoutMs: number }): Promise<ServedEmbedder> {
    return new ServedEmbedder(await loadSentenceEncoder(model, load), batching, limits);
  }

  get name(): string {
    return this.encoder.name;
  }

  get dimension(): number {
    return this.encoder.dimension;
  }

  get depth(): number {
    return this.batcher.depth;
  }

  /** One vector per text of `input` (checked against the limits, errors naming `field`). */
  async embed(field: string, input: string | string[], normalize: boolean): Promise<Float32Array[]> {
    const texts = typeof input === 'string' ? [input] : input;
    checkTexts(field, texts, this.limits);
    const submitted = this.batcher.submit(texts);
    const vectors = await withTimeout(submitted.results, submitted.cancel, this.limits.requestTimeoutMs);
    return normalize ? vectors.map((v) => l2normalize(v)) : vectors;
  }

  /** Tokens an embedding input costs: the model's own count for a BERT-family encoder, words otherwise. */
  tokens(text: string): number {
    const encoder = this.encoder;
    if (encoder instanceof BiEncoder) return encoder.tokenizer.encodeSingle(text, { maxLength: encoder.maxLength }).inputIds.length;
    return text.match(/\S+/g)?.length ?? 0;
  }

  close(): Promise<void> {
    return this.batcher.close();
  }

  async dispose(): Promise<void> {
    await this.encoder.dispose();
  }
}
