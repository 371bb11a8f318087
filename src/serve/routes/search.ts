import type { FastifyPluginAsync } from 'fastify';
import type { SearchMode } from '../../retrieve/retriever.js';
import { HttpError } from '../http-errors.js';
import { searchRoute } from '../schemas.js';
import type { SearchRequest } from '../search-service.js';
import { scoreRequest, type RouteContext } from './context.js';

/** POST /search: retrieval on the server's index, then the server's reranker, behind the optional semantic cache. */
export const searchRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const search = context.search;
  if (!search) return;
  app.post<{ Body: SearchRequest }>('/search', { schema: searchRoute }, async (request) => {
    const body = request.body;
    if (body.query.trim() === '') throw new HttpError(400, 'query: expected a non-empty query', 'query');
    let mode: SearchMode;
    try {
      mode = search.resolveMode(body.mode);
    } catch (error) {
      throw new HttpError(400, (error as Error).message, 'mode');
    }
    return search.search({ ...body, mode }, async (query, texts) => (await scoreRequest(context, query, 'results', texts, { truncate: true })).fusable);
  });
};
