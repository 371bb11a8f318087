import type { SearchService } from '../search-service.js';
import type { ServedEmbedder } from '../served-embedder.js';
import type { ServedFit, ServedReranker, ServedScores } from '../served-reranker.js';
import type { ServerMetrics } from '../metrics.js';
import { checkQuery, checkTexts, type TextLimits } from '../http-errors.js';

/** What every route plugin is given: the loaded models, the request limits and the server's own state. */
export interface RouteContext {
  /** The names the server was started with, as /health reports them. */
  names: { model: string; embedModel?: string; index?: string; cache?: string };
  limits: TextLimits;
  reranker: ServedReranker;
  embedder?: ServedEmbedder;
  search?: SearchService;
  metrics: ServerMetrics;
  /** Requests waiting for a model or in a model call, over every batcher. */
  queueDepth: () => number;
}

/**
 * Checks a rerank request against the limits and scores it: `field` names the documents in errors; `truncate` false
 * makes a pair longer than the model a 413 instead of cutting it.
 */
export function scoreRequest(
  context: RouteContext,
  query: string,
  field: string,
  documents: readonly string[],
  fit: Omit<ServedFit, 'field'>,
): Promise<ServedScores> {
  checkQuery(query, context.limits);
  checkTexts(field, documents, context.limits);
  return context.reranker.score(query, documents, { ...fit, field });
}

/** Document indices best first; ties keep input order, as `rank()` does. */
export function bestFirst(scores: ArrayLike<number>): number[] {
  return Array.from(scores, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
}
