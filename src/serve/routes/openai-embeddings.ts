import type { FastifyPluginAsync } from 'fastify';
import { l2normalize } from '../../models/vectors.js';
import { HttpError } from '../http-errors.js';
import { openAiEmbeddingsRoute } from '../schemas.js';
import type { ServedEmbedder } from '../served-embedder.js';
import type { RouteContext } from './context.js';

interface OpenAiEmbeddingsRequest {
  input: string | string[];
  model?: string;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
}

/** OpenAI's /v1/embeddings, when the server has an embedding model. */
export const openAiEmbeddingsRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const embedder = context.embedder;
  if (!embedder) return;
  app.post<{ Body: OpenAiEmbeddingsRequest }>('/v1/embeddings', { schema: openAiEmbeddingsRoute }, (request) => embeddings(embedder, request.body));
};

async function embeddings(embedder: ServedEmbedder, body: OpenAiEmbeddingsRequest): Promise<object> {
  const { input, dimensions } = body;
  if (dimensions !== undefined && dimensions > embedder.dimension) {
    throw new HttpError(400, `dimensions: expected at most ${embedder.dimension} (the model's dimension), got ${dimensions}`, 'dimensions');
  }
  let vectors = await embedder.embed('input', input, true);
  // OpenAI's shortened embeddings: the leading dimensions, normalised again to unit length.
  if (dimensions !== undefined && dimensions < embedder.dimension) vectors = vectors.map((v) => l2normalize(v.subarray(0, dimensions)));
  const base64 = body.encoding_format === 'base64';
  const tokens = (typeof input === 'string' ? [input] : input).reduce((n, t) => n + embedder.tokens(t), 0);
  return {
    object: 'list',
    data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: base64 ? float32Base64(v) : Array.from(v) })),
    model: body.model ?? embedder.name,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** Float32 values as little-endian bytes in base64, the form OpenAI's `encoding_format: "base64"` returns. */
export function float32Base64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes.toString('base64');
}
