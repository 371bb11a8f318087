import type { FastifyPluginAsync } from 'fastify';
import { teiEmbedRoute, teiRerankRoute } from '../schemas.js';
import { bestFirst, scoreRequest, type RouteContext } from './context.js';

interface TeiRerankRequest {
  query: string;
  texts: string[];
  raw_scores?: boolean;
  return_text?: boolean;
  truncate?: boolean;
}

/** Hugging Face text-embeddings-inference's API: /rerank, and /embed when the server has an embedding model. */
export const teiRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  app.post<{ Body: TeiRerankRequest }>('/rerank', { schema: teiRerankRoute }, async (request) => {
    const body = request.body;
    // TEI's default: a text that does not fit is an error, not silently cut.
    const { relevance, raw } = await scoreRequest(context, body.query, 'texts', body.texts, { truncate: body.truncate === true });
    return bestFirst(relevance).map((index) => ({
      index,
      score: body.raw_scores ? raw[index] : relevance[index],
      ...(body.return_text ? { text: body.texts[index] } : {}),
    }));
  });

  const embedder = context.embedder;
  if (!embedder) return;
  app.post<{ Body: { inputs: string | string[]; normalize?: boolean } }>('/embed', { schema: teiEmbedRoute }, async (request) => {
    const vectors = await embedder.embed('inputs', request.body.inputs, request.body.normalize !== false);
    return vectors.map((v) => Array.from(v));
  });
};
