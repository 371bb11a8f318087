/**
 * Request body schemas, checked by fastify before a handler runs. Limits that depend on server options (document
 * count, characters, tokens) are checked in the handlers so that they can answer 413 and name the exact field.
 */

const text = { type: 'string' } as const;
const textList = { type: 'array', items: text } as const;

export const cohereRerankBody = {
  type: 'object',
  required: ['query', 'documents'],
  properties: {
    model: text,
    query: text,
    documents: {
      type: 'array',
      items: {
        anyOf: [text, { type: 'object', required: ['text'], properties: { text } }],
      },
    },
    top_n: { type: 'integer', minimum: 1 },
    max_tokens_per_doc: { type: 'integer', minimum: 1 },
    return_documents: { type: 'boolean' },
  },
} as const;

export const teiRerankBody = {
  type: 'object',
  required: ['query', 'texts'],
  properties: {
    query: text,
    texts: textList,
    raw_scores: { type: 'boolean' },
    return_text: { type: 'boolean' },
    truncate: { type: 'boolean' },
  },
} as const;

export const searchBody = {
  type: 'object',
  required: ['query'],
  properties: {
    query: text,
    k: { type: 'integer', minimum: 1, maximum: 1000 },
    candidates: { type: 'integer', minimum: 1, maximum: 1000 },
    mode: { type: 'string', enum: ['text', 'vector', 'hybrid'] },
    fuse: { type: 'string', enum: ['rrf', 'linear'] },
    fuse_weight: { type: 'number', minimum: 0, maximum: 1 },
  },
} as const;

export const teiEmbedBody = {
  type: 'object',
  required: ['inputs'],
  properties: {
    inputs: { anyOf: [text, textList] },
    normalize: { type: 'boolean' },
    truncate: { type: 'boolean' },
  },
} as const;

export const openAiEmbeddingsBody = {
  type: 'object',
  required: ['input'],
  properties: {
    input: { anyOf: [text, textList] },
    model: text,
    // base64: the float32 values, little-endian, base64-encoded (OpenAI's compact form; its clients may ask for it).
    encoding_format: { type: 'string', enum: ['float', 'base64'] },
    // Fewer dimensions than the model gives: the vector is cut to the first `dimensions` and normalised again.
    dimensions: { type: 'integer', minimum: 1 },
    user: text,
  },
} as const;

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { message: text, field: text } } },
} as const;

/**
 * The error statuses a scoring route can answer, for the OpenAPI document. The server's serializer is JSON.stringify
 * (see buildApp), so response schemas document replies and never reshape them.
 */
const errorResponses = Object.fromEntries(
  [
    ['400', 'Malformed JSON, a wrong type, or an empty or invalid field'],
    ['401', 'Missing or wrong bearer token'],
    ['405', 'The route exists for another method; see Allow'],
    ['408', 'The request (headers and body) was not received within the request timeout'],
    ['413', 'Body, document count, characters or tokens over the limit'],
    ['429', 'Queue full; see Retry-After'],
    ['503', 'Timed out waiting in the queue, or shutting down'],
    ['504', 'Timed out while being scored'],
  ].map(([code, description]) => [code, { description, ...errorSchema }]),
);

const score = { type: 'number' } as const;

/** A POST route's schema: the body fastify validates, and the summary and replies @fastify/swagger documents. */
function postRoute<B extends object>(summary: string, body: B, ok: object) {
  return { summary, body, response: { 200: { description: 'OK', ...ok }, ...errorResponses } };
}

export const cohereRerankRoute = postRoute('Cohere v2 rerank: documents best first, relevance_score is the sigmoid of the logit', cohereRerankBody, {
  type: 'object',
  properties: {
    id: text,
    results: {
      type: 'array',
      items: { type: 'object', properties: { index: { type: 'integer' }, relevance_score: score, document: { type: 'object', properties: { text } } } },
    },
    meta: { type: 'object' },
  },
});

export const teiRerankRoute = postRoute('Hugging Face TEI rerank: texts best first; raw_scores gives logits', teiRerankBody, {
  type: 'array',
  items: { type: 'object', properties: { index: { type: 'integer' }, score, text } },
});

export const teiEmbedRoute = postRoute('Hugging Face TEI embed: one vector per input', teiEmbedBody, {
  type: 'array',
  items: { type: 'array', items: score },
});

export const openAiEmbeddingsRoute = postRoute('OpenAI embeddings', openAiEmbeddingsBody, {
  type: 'object',
  properties: { object: text, data: { type: 'array' }, model: text, usage: { type: 'object' } },
});

export const searchRoute = postRoute('First-stage retrieval on the LanceDB index, then the cross-encoder; answers may come from the semantic cache', searchBody, {
  type: 'object',
  properties: {
    query: text,
    results: { type: 'array', items: { type: 'object', properties: { id: text, text, score, retrieval_score: score, metadata: { type: 'object' } } } },
    cache: { type: 'object', nullable: true, properties: { hit: { type: 'boolean' }, matched_query: { type: 'string', nullable: true }, score: { type: 'number', nullable: true } } },
  },
});
