/**
 * The second step of a lookup: score the new query against a few candidate cached queries. The default verifier is
 * the bi-encoder's own cosine (free: both vectors are at hand), made trustworthy by a calibrated threshold and the
 * guards; a duplicate-question cross-encoder, when the user has one, reads each pair together and verifies better.
 */
import { dot } from '../models/vectors.js';
import { CrossEncoder, type CrossEncoderLoadOptions, type PredictOptions } from '../rank/cross-encoder.js';

export interface VerifyItem {
  text: string;
  /** Unit vector from the cache's encoder. */
  vector: Float32Array;
}

export interface Verifier {
  /** For tables and stats: 'cosine', or the cross-encoder's name. */
  readonly name: string;
  /** One score per candidate, in candidate order; higher means more likely the same question. */
  score(query: VerifyItem, candidates: readonly VerifyItem[]): Promise<number[]>;
}

/** Cosine of unit vectors: a dot product per candidate. */
export class CosineVerifier implements Verifier {
  readonly name = 'cosine';

  async score(query: VerifyItem, candidates: readonly VerifyItem[]): Promise<number[]> {
    return candidates.map((c) => dot(query.vector, c.vector));
  }
}

/** A cross-encoder's probability that (new query, cached query) are duplicates, through the model's activation. */
export class CrossEncoderVerifier implements Verifier {
  constructor(
    private readonly model: CrossEncoder,
    private readonly options: PredictOptions = {},
  ) {}

  static async load(model: string, options: CrossEncoderLoadOptions & { predict?: PredictOptions } = {}): Promise<CrossEncoderVerifier> {
    return new CrossEncoderVerifier(await CrossEncoder.load(model, options), options.predict);
  }

  get name(): string {
    return this.model.name;
  }

  async score(query: VerifyItem, candidates: readonly VerifyItem[]): Promise<number[]> {
    if (candidates.length === 0) return [];
    return Array.from(await this.model.predict(candidates.map((c) => [query.text, c.text] as const), this.options));
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
