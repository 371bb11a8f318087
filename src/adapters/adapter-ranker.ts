import { InputError } from '../errors.js';
import { DEFAULT_RERANKER, loadRanker } from '../rank/load-ranker.js';
import type { Ranker } from '../rank/results.js';

/** What every framework adapter is built from: a loaded `Ranker`, or a model name for `loadRanker` ('default'). */
export type RankerSource = Ranker | string;

export interface AdapterOptions {
  /** A loaded ranker, or a model name / folder / hub id for `loadRanker` (default: the built-in reranker). */
  ranker?: RankerSource;
  /** Keep only the best `topN` documents (default: all of them, reordered). */
  topN?: number;
}

/** One scored input: `index` is the position in the caller's list, so the adapter can hand back the caller's object. */
export interface ScoredIndex {
  index: number;
  score: number;
}

/**
 * The part the three adapters share: the ranker they wrap (a name is loaded on first use, once, so constructing an
 * adapter stays synchronous as the frameworks expect), topN checks, and scoring texts in rank order.
 */
export class AdapterRanker {
  readonly modelId: string;
  readonly topN: number | undefined;
  private readonly source: RankerSource;
  private loading: Promise<Ranker> | undefined;

  constructor(options: AdapterOptions = {}) {
    const source = options.ranker ?? DEFAULT_RERANKER;
    if (typeof source !== 'string' && (typeof source !== 'object' || source === null || typeof source.rank !== 'function')) {
      throw new InputError('ranker: expected a Ranker (an object with rank()) or a model name');
    }
    checkTopN(options.topN, 'topN');
    this.source = source;
    this.topN = options.topN;
    this.modelId = typeof source === 'string' ? source : source.name;
  }

  ranker(): Promise<Ranker> {
    if (this.loading === undefined) {
      const loading = typeof this.source === 'string' ? loadRanker(this.source) : Promise.resolve(this.source);
      // A failed load (a typo in the name) is not cached, so the next call reports it again instead of a stale promise.
      loading.catch(() => {
        if (this.loading === loading) this.loading = undefined;
      });
      this.loading = loading;
    }
    return this.loading;
  }

  /** Scores `texts` for `query`, best first; `topN` overrides the adapter's own for one call. */
  async rank(query: string, texts: readonly string[], topN: number | undefined = this.topN, signal?: AbortSignal): Promise<{ model: string; results: ScoredIndex[] }> {
    checkTopN(topN, 'topN');
    // Frameworks call postprocessors on empty retrievals; that must not load a model or reach the ranker's checks.
    if (texts.length === 0) return { model: this.modelId, results: [] };
    const ranker = await this.ranker();
    const ranked = await ranker.rank(query, texts, { topK: topN, returnDocuments: false, signal });
    return { model: ranked.model, results: ranked.results.map(({ index, score }) => ({ index, score })) };
  }

  /** Frees the model only when the adapter loaded it itself; a ranker passed in belongs to the caller. */
  async dispose(): Promise<void> {
    if (typeof this.source !== 'string' || this.loading === undefined) return;
    const ranker = await this.loading;
    this.loading = undefined;
    await ranker.dispose();
  }
}

function checkTopN(topN: unknown, field: string): void {
  if (topN !== undefined && (!Number.isInteger(topN) || (topN as number) < 1)) {
    throw new InputError(`${field}: expected a positive integer, got ${String(topN)}`);
  }
}

/** The text of one input for error-checked adapters: `field` names where it came from (`documents[2].pageContent`). */
export function textAt(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InputError(`${field}: expected a string, got ${value === null ? 'null' : typeof value}`);
  return value;
}
