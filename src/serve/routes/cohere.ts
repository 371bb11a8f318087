import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { cohereRerankBody } from '../schemas.js';
import { bestFirst, scoreRequest, type RouteContext } from './context.js';

interface CohereRerankRequest {
  model?: string;
  query: string;
  documents: Array<string | { text: string }>;
  top_n?: number;
  max_tokens_per_doc?: number;
  return_documents?: boolean;
}

/** Cohere's rerank API (v2): what the `cohere-ai` client and LangChain's CohereRerank call. */
export const cohereRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  app.post<{ Body: CohereRerankRequest }>('/v2/rerank', { schema: { body: cohereRerankBody } }, async (request) => {
    const body = request.body;
    const texts = body.documents.map((d) => (typeof d === 'string' ? d : d.text));
    // Cohere cuts long documents rather than refusing them.
    const { relevance } = await scoreRequest(context, body.query, 'documents', texts, { truncate: true, maxTokensPerDocument: body.max_tokens_per_doc });
    const order = bestFirst(relevance).slice(0, body.top_n ?? texts.length);
    return {
      id: randomUUID(),
      results: order.map((index) => ({
        index,
        relevance_score: relevance[index],
        ...(body.return_documents ? { document: { text: texts[index] } } : {}),
      })),
      meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } },
    };
  });
};
