import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { InputError } from '../../errors.js';
import { cohereRerankBody, cohereRerankRoute } from '../schemas.js';
import { bestFirst, scoreRequest, type RouteContext } from './context.js';

/** Optional fields may be null: see {@link nullableOptionals}. */
interface CohereRerankRequest {
  model?: string | null;
  query: string;
  documents: Array<string | { text: string }>;
  top_n?: number | null;
  max_tokens_per_doc?: number | null;
  return_documents?: boolean | null;
}

/** Cohere v1 and Jina add chunking of long documents; `rank_fields` is accepted and ignored (see the route). */
interface V1RerankRequest extends CohereRerankRequest {
  max_chunks_per_doc?: number | null;
  rank_fields?: string[] | null;
}

/**
 * The `cohere-ai` clients (Fern-generated) send an optional field that the caller passed as undefined as null -
 * LangChain's CohereRerank always sends `"max_chunks_per_doc": null` - and Cohere reads null as absent; so does this
 * server.
 */
function nullableOptionals<B extends { required: readonly string[]; properties: Record<string, object> }>(body: B): B {
  const properties = Object.entries(body.properties).map(([name, schema]) => [name, body.required.includes(name) ? schema : { ...schema, nullable: true }]);
  return { ...body, properties: Object.fromEntries(properties) };
}

const v2RerankRoute = { ...cohereRerankRoute, body: nullableOptionals(cohereRerankBody) };

/**
 * The v1 body: v2's fields (v2's `max_tokens_per_doc` too, which the AI SDK's Cohere provider sends) plus
 * `max_chunks_per_doc` and `rank_fields`.
 */
const v1RerankBody = nullableOptionals({
  ...cohereRerankBody,
  properties: {
    ...cohereRerankBody.properties,
    max_chunks_per_doc: { type: 'integer', minimum: 1 },
    rank_fields: { type: 'array', items: { type: 'string' } },
  },
} as const);

const v1RerankRoute = {
  ...cohereRerankRoute,
  summary:
    'Cohere v1 and Jina rerank: /v2/rerank plus max_chunks_per_doc (a document scores as its best chunk), usage.total_tokens and model',
  body: v1RerankBody,
};

/**
 * Cohere's rerank API: /v2/rerank (the `cohere-ai` client's CohereClientV2, the AI SDK's Cohere provider) and
 * /v1/rerank (CohereClient, LangChain's CohereRerank, LlamaIndex's Cohere reranker, and Jina-style clients). Both
 * answer in Cohere's shape; v1 adds Jina's `usage` and `model`.
 */
export const cohereRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  app.post<{ Body: CohereRerankRequest }>('/v2/rerank', { schema: v2RerankRoute }, async (request) => {
    const { results } = await rerank(context, request.body);
    return { id: randomUUID(), results, meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } } };
  });

  app.post<{ Body: V1RerankRequest }>('/v1/rerank', { schema: v1RerankRoute }, async (request) => {
    const body = request.body;
    const chunks = body.max_chunks_per_doc ?? undefined;
    if (chunks !== undefined && body.max_tokens_per_doc != null) {
      throw new InputError('max_chunks_per_doc: cannot be combined with max_tokens_per_doc (one splits a long document, the other cuts it); send one of them');
    }
    const warnings: string[] = [];
    // Every document is ranked on its text: a document object's other fields are not read.
    if (body.rank_fields != null && !(body.rank_fields.length === 1 && body.rank_fields[0] === 'text')) {
      warnings.push('rank_fields: ignored; documents are ranked on their "text" field only');
    }
    if (chunks !== undefined && !context.reranker.chunks) {
      warnings.push('max_chunks_per_doc: ignored; the served model is not a cross-encoder and reads each whole document');
    }
    const { results, tokens } = await rerank(context, body, chunks);
    return {
      id: randomUUID(),
      results,
      meta: { api_version: { version: '1' }, billed_units: { search_units: 1 }, ...(warnings.length > 0 ? { warnings } : {}) },
      model: context.names.model,
      ...(tokens !== undefined ? { usage: { total_tokens: tokens } } : {}),
    };
  });
};

/**
 * Both versions' work: documents as strings or `{text}`, cut to `max_tokens_per_doc` (Cohere cuts long documents
 * rather than refusing them) or split into at most `maxChunksPerDocument` chunks, best first, `top_n` of them, with
 * their text when `return_documents` is true (false by default, as in Cohere's API; Jina's default is true).
 */
async function rerank(context: RouteContext, body: CohereRerankRequest, maxChunksPerDocument?: number) {
  const texts = body.documents.map((d) => (typeof d === 'string' ? d : d.text));
  const { relevance, tokens } = await scoreRequest(context, body.query, 'documents', texts, {
    truncate: true,
    maxTokensPerDocument: body.max_tokens_per_doc ?? undefined,
    maxChunksPerDocument,
  });
  const order = bestFirst(relevance).slice(0, body.top_n ?? texts.length);
  const results = order.map((index) => ({
    index,
    relevance_score: relevance[index],
    ...(body.return_documents ? { document: { text: texts[index] } } : {}),
  }));
  return { results, tokens };
}
