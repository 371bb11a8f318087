/**
 * Vercel AI SDK: rankwise as a reranking model of the provider specification v3, so `rerank({ model, documents,
 * query, topN })` from `ai` runs locally. Imported as `rankwise/ai-sdk`; only types come from `@ai-sdk/provider`
 * (an optional peer dependency), so this module loads without it.
 */
import type { JSONObject, RerankingModelV3, RerankingModelV3CallOptions } from '@ai-sdk/provider';
import { InputError } from '../errors.js';
import { AdapterRanker, textAt, type AdapterOptions } from './adapter-ranker.js';

export type RankwiseRerankingModelOptions = AdapterOptions;

type RerankResult = Awaited<ReturnType<RerankingModelV3['doRerank']>>;

/**
 * Text documents are scored as they are. An object document is scored by its `text` field when that is a string
 * (the usual shape of a chunk), otherwise by its JSON (`JSON.stringify`), so every field the object carries can count;
 * `rerank()` returns the caller's objects either way.
 */
export class RankwiseRerankingModel implements RerankingModelV3 {
  readonly specificationVersion = 'v3';
  readonly provider = 'rankwise';
  readonly modelId: string;
  private readonly scorer: AdapterRanker;

  constructor(options: RankwiseRerankingModelOptions = {}) {
    this.scorer = new AdapterRanker(options);
    this.modelId = this.scorer.modelId;
  }

  async doRerank({ documents, query, topN, abortSignal }: RerankingModelV3CallOptions): Promise<RerankResult> {
    abortSignal?.throwIfAborted();
    const ranked = await this.scorer.rank(query, textsOf(documents), topN ?? this.scorer.topN, abortSignal);
    abortSignal?.throwIfAborted();
    return {
      ranking: ranked.results.map(({ index, score }) => ({ index, relevanceScore: score })),
      response: { modelId: ranked.model, timestamp: new Date() },
    };
  }

  /** Frees the model when this reranking model loaded it from a name. */
  dispose(): Promise<void> {
    return this.scorer.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

/** `rankwiseReranker('default')`, in the style of the SDK's providers (`cohere.reranking(...)`). */
export function rankwiseReranker(ranker?: AdapterOptions['ranker'], options: Omit<AdapterOptions, 'ranker'> = {}): RankwiseRerankingModel {
  return new RankwiseRerankingModel({ ...options, ranker });
}

function textsOf(documents: RerankingModelV3CallOptions['documents']): string[] {
  if (documents?.type === 'text') return documents.values.map((value, i) => textAt(value, `documents.values[${i}]`));
  if (documents?.type === 'object') return documents.values.map((value, i) => objectText(value, i));
  throw new InputError(`documents.type: expected 'text' or 'object', got ${String((documents as { type?: unknown } | undefined)?.type)}`);
}

function objectText(value: JSONObject, i: number): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`documents.values[${i}]: expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return typeof value.text === 'string' ? value.text : JSON.stringify(value);
}
