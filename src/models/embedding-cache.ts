import type { SentenceEncoder } from './sentence-encoder.js';
import { InputError } from '../errors.js';

/**
 * Unit vectors of recently seen texts, least recently used evicted first. Reranking sees the same documents again and
 * again (a popular page is a candidate for many queries; an evaluation reranks each document for dozens of queries),
 * and a bi-encoder's vector of a text never changes, so encoding it once is enough.
 */
export class EmbeddingCache {
  private readonly vectors = new Map<string, Float32Array>();

  /** `capacity` texts at most (default 20,000: about 40 MB of 512-d vectors). */
  constructor(readonly capacity = 20_000) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new InputError(`capacity: expected a non-negative integer, got ${capacity}`);
  }

  get size(): number {
    return this.vectors.size;
  }

  /** Unit vectors of `texts` in order, encoding (in batches of `batchSize`) only those not cached. */
  async encode(encoder: SentenceEncoder, texts: readonly string[], batchSize?: number): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(texts.length);
    const missing: string[] = [];
    texts.forEach((text, i) => {
      const hit = this.vectors.get(text);
      if (hit) {
        // Re-insert: a Map iterates in insertion order, so the first key is always the least recently used.
        this.vectors.delete(text);
        this.vectors.set(text, hit);
        out[i] = hit;
      } else missing.push(text);
    });
    if (missing.length > 0) {
      const unique = [...new Set(missing)];
      const encoded = await encoder.encode(unique, { normalize: true, batchSize });
      const byText = new Map(unique.map((t, i) => [t, encoded[i]]));
      texts.forEach((text, i) => {
        out[i] ??= byText.get(text)!;
      });
      for (const [text, vector] of byText) this.remember(text, vector);
    }
    return out;
  }

  private remember(text: string, vector: Float32Array): void {
    if (this.capacity === 0) return;
    this.vectors.set(text, vector);
    while (this.vectors.size > this.capacity) this.vectors.delete(this.vectors.keys().next().value!);
  }
}
