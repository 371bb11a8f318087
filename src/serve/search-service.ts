/**
 * `POST /search` behind the server: first-stage retrieval on a LanceDB index (built by `rankwise index add`), the
 * server's cross-encoder over the candidates (through the same cross-request batcher as /v2/rerank), and an optional
 * semantic cache in front. With the cache in Redis, several replicas behind a load balancer share one index folder
 * and one cache, and give the same answer whichever replica a request reaches.
 *
 * Every request first moves to the index's latest committed version, so `rankwise index add` and `index delete` run
 * while the server is up are seen by the next request; a cached answer is used only when it was computed on that
 * same version, so a deleted document is never served from the cache.
 */
import { RedisCacheStore } from '../cache/redis-store.js';
import { SemanticCache } from '../cache/semantic-cache.js';
import { SqliteCacheStore } from '../cache/sqlite-store.js';
import type { CacheStore } from '../cache/store.js';
import type { BertModelLoadOptions } from '../models/bert-model.js';
import { DEFAULT_ENCODER, loadSentenceEncoder } from '../models/load-encoder.js';
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import { sigmoid } from '../rank/cross-encoder.js';
import { checkFusionOptions, type FusionMethod } from '../rank/fusion.js';
import { rankByScores } from '../rank/results.js';
import { readLanceManifest } from '../retrieve/lance-manifest.js';
import { LanceDbRetriever } from '../retrieve/lancedb.js';
import type { SearchMode } from '../retrieve/retriever.js';
import type { DisposableResource } from '../util/disposable.js';
import type { ScoredDocument } from '../documents.js';
import { InputError } from '../errors.js';

export interface SearchRequest {
  query: string;
  /** Results to return (default 10). */
  k?: number;
  /** First-stage candidates the cross-encoder reranks (default 50). */
  candidates?: number;
  mode?: SearchMode;
  /** Order by the cross-encoder fused with the first stage (`rrf`, or `linear` with `fuse_weight`, default 0.5). */
  fuse?: FusionMethod;
  fuse_weight?: number;
}

/** One result: the indexed document (id, text, metadata as `rankwise index add` stored them) and its scores. */
export interface SearchHit extends ScoredDocument {
  /** The cross-encoder's relevance in [0, 1]. */
  score: number;
  /** The first stage's score (BM25, cosine or RRF, by mode). */
  retrieval_score: number;
  /** With `fuse`: the fused score the results are ordered by. */
  fused_score?: number;
}

export interface SearchResponse {
  query: string;
  results: SearchHit[];
  /** Null without a cache; otherwise whether this answer came from it, and for which earlier query. */
  cache: { hit: boolean; matched_query: string | null; score: number | null } | null;
}

export interface SearchServiceOptions {
  /** A LanceDB folder written by `rankwise index add`. */
  indexDir: string;
  /** `redis://host:port` (shared by replicas) or a SQLite file path (one process). */
  cache?: string;
  cacheThreshold?: number;
  load?: BertModelLoadOptions;
}

/**
 * The reranker's raw scores for one query against texts (a cross-encoder's logits, which fusion mixes) and how a raw
 * score becomes the relevance a result reports (a sigmoid for logits); the server passes its batcher here.
 */
export type ScoreTexts = (query: string, texts: readonly string[]) => Promise<{ scores: ArrayLike<number>; relevance: (score: number) => number }>;

interface CachedSearch {
  k: number;
  candidates: number;
  mode: SearchMode;
  fuse: string | null;
  /** The index version the results were computed on (LanceDbRetriever.refresh). */
  index_version?: string;
  results: SearchHit[];
}

export class SearchService implements DisposableResource {
  private cacheOutage = false;

  private constructor(
    private readonly retriever: LanceDbRetriever,
    /** The index's encoder and, for a text-only index, the cache's own. */
    private readonly encoders: readonly SentenceEncoder[],
    private readonly cache: SemanticCache | undefined,
  ) {}

  static async open(options: SearchServiceOptions): Promise<SearchService> {
    const manifest = await readLanceManifest(options.indexDir);
    if (!manifest) throw new InputError(`index: ${options.indexDir} holds no rankwise index (build one with \`rankwise index add\`)`);
    const opened: Array<Pick<DisposableResource, 'dispose'>> = [];
    try {
      // Queries are embedded by the very encoder the index was built with (its name says which, fp32 included):
      // `--dtype int8` is for the reranker and would make the vectors of queries and documents differ.
      const indexEncoder = manifest.encoder ? await loadSentenceEncoder(manifest.encoder.name, { ...options.load, dtype: undefined }) : undefined;
      if (indexEncoder) opened.push(indexEncoder);
      const retriever = await LanceDbRetriever.open(options.indexDir, indexEncoder ? { encoder: indexEncoder } : {});
      opened.push(retriever);
      let cache: SemanticCache | undefined;
      const encoders = indexEncoder ? [indexEncoder] : [];
      if (options.cache) {
        const cacheEncoder = indexEncoder ?? (await loadSentenceEncoder(DEFAULT_ENCODER, options.load));
        if (cacheEncoder !== indexEncoder) {
          opened.push(cacheEncoder);
          encoders.push(cacheEncoder);
        }
        const store: CacheStore = /^rediss?:\/\//.test(options.cache)
          ? await RedisCacheStore.connect(options.cache, { prefix: 'rankwise:search-cache' })
          : await SqliteCacheStore.open(options.cache);
        opened.push({ dispose: () => store.close() });
        cache = await SemanticCache.open({ encoder: cacheEncoder, store, threshold: options.cacheThreshold });
      }
      return new SearchService(retriever, encoders, cache);
    } catch (error) {
      for (const resource of opened.reverse()) await resource.dispose();
      throw error;
    }
  }

  /** The mode a request asked for, or the index's best; an error naming `mode` when the index cannot search so. */
  resolveMode(mode: SearchMode | undefined): SearchMode {
    const modes = this.retriever.modes;
    const resolved = mode ?? (modes.includes('hybrid') ? 'hybrid' : 'text');
    if (!modes.includes(resolved)) throw new InputError(`mode: this index supports ${modes.join(', ')}, not "${resolved}"`);
    return resolved;
  }

  async search(request: SearchRequest, score: ScoreTexts): Promise<SearchResponse> {
    const k = request.k ?? 10;
    const candidates = Math.max(request.candidates ?? 50, k);
    const mode = this.resolveMode(request.mode);
    const fusion = request.fuse ? checkFusionOptions({ method: request.fuse, weight: request.fuse_weight }, 'fuse') : undefined;
    const fuseKey = fusion ? `${fusion.method}:${fusion.weight}` : null;
    const indexVersion = await this.retriever.refresh();
    if (this.cache) {
      // An answer computed with other settings, or on another version of the index, is not this request's answer
      // (the cache counts it as stale, not as a hit).
      const accept = (cached: CachedSearch) =>
        cached.k === k && cached.candidates === candidates && cached.mode === mode && (cached.fuse ?? null) === fuseKey && cached.index_version === indexVersion;
      const found = await this.withoutCacheOutage(() => this.cache!.lookup<CachedSearch>(request.query, { accept }));
      if (found?.hit) {
        return { query: request.query, results: found.value!.results, cache: { hit: true, matched_query: found.matched?.query ?? null, score: found.score } };
      }
    }
    const retrieved = await this.retriever.search(request.query, { k: candidates, mode });
    const { scores: logits, relevance } = retrieved.length > 0 ? await score(request.query, retrieved.map((d) => d.text)) : { scores: new Float32Array(0), relevance: sigmoid };
    const fuse = fusion && { ...fusion, firstStageScores: retrieved.map((d) => d.score) };
    const ranked = rankByScores(request.query, retrieved, logits, 'search', { topK: k, returnDocuments: false, ...(fuse ? { fuse } : {}) });
    const results: SearchHit[] = ranked.results.map(({ index, score }) => ({
      id: retrieved[index].id,
      text: retrieved[index].text,
      score: relevance(logits[index]),
      retrieval_score: retrieved[index].score,
      ...(fuse ? { fused_score: score } : {}),
      ...(retrieved[index].metadata ? { metadata: retrieved[index].metadata } : {}),
    }));
    if (this.cache) await this.withoutCacheOutage(() => this.cache!.store(request.query, { k, candidates, mode, fuse: fuseKey, index_version: indexVersion, results } satisfies CachedSearch));
    return { query: request.query, results, cache: this.cache ? { hit: false, matched_query: null, score: null } : null };
  }

  /**
   * The cache only saves work: while its store is unreachable (Redis restarting, say) a search is answered without it
   * rather than failing. The outage is reported once, and again when the cache is back.
   */
  private async withoutCacheOutage<T>(step: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await step();
      if (this.cacheOutage) {
        this.cacheOutage = false;
        process.stderr.write('rankwise serve: the semantic cache is reachable again\n');
      }
      return value;
    } catch (error) {
      if (!this.cacheOutage) {
        this.cacheOutage = true;
        process.stderr.write(`rankwise serve: the semantic cache is unreachable (${(error as Error).message}); answering without it\n`);
      }
      return undefined;
    }
  }

  async close(): Promise<void> {
    await this.cache?.close();
    await this.retriever.close();
    for (const encoder of this.encoders) await encoder.dispose();
  }

  dispose(): Promise<void> {
    return this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
