import type { FastifyPluginAsync } from 'fastify';
import { openApiDocument } from '../schemas.js';
import type { RouteContext } from './context.js';

const HEALTH_PROBE_TTL_MS = 1000;

/** What operators and tooling call: /health, /metrics (Prometheus) and /openapi.json. */
export const operationsRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const healthProbe = cachedProbe(context);
  app.get('/health', async (_request, reply) => {
    const error = await healthProbe();
    if (error !== null) reply.code(503);
    const { model, embedModel, index, cache } = context.names;
    return {
      status: error === null ? 'ok' : 'error',
      ...(error !== null ? { error } : {}),
      model,
      ...(embedModel ? { embed_model: embedModel } : {}),
      ...(index ? { index, cache: cache ? (cache.startsWith('redis') ? 'redis' : 'sqlite') : null } : {}),
      queue: context.queueDepth(),
    };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return context.metrics.render();
  });

  const openApi = openApiDocument({ version: '1', embeddings: context.embedder !== undefined, search: context.search !== undefined });
  app.get('/openapi.json', async () => openApi);
};

/**
 * /health says ok only after the model has scored a pair; one probe serves every health check within a second.
 * Resolves to the probe's error message, or null.
 */
function cachedProbe(context: RouteContext): () => Promise<string | null> {
  let probe: { at: number; error: string | null } | undefined;
  let probing: Promise<string | null> | undefined;
  return () => {
    if (probe && Date.now() - probe.at < HEALTH_PROBE_TTL_MS) return Promise.resolve(probe.error);
    probing ??= context.reranker
      .probe()
      .then(() => null, (error: Error) => error.message)
      .then((error) => {
        probe = { at: Date.now(), error };
        probing = undefined;
        return error;
      });
    return probing;
  };
}
