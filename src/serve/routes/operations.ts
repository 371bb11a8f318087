import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { requireOptional } from '../../errors.js';
import type { RouteContext } from './context.js';

const HEALTH_PROBE_TTL_MS = 1000;

/** What operators and tooling call: /health, /metrics (Prometheus) and /openapi.json. */
export const operationsRoutes: FastifyPluginAsync<RouteContext> = async (app, context) => {
  const healthProbe = cachedProbe(context);
  app.get('/health', { schema: { summary: 'Liveness and queue depth; answers without the API key', security: [] } }, async (_request, reply) => {
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

  app.get('/metrics', { schema: { summary: 'Prometheus metrics (text format 0.0.4): requests, batches, latency, process and event loop' } }, async (_request, reply) => {
    reply.type(context.metrics.contentType);
    return context.metrics.render();
  });

  app.get('/openapi.json', { schema: { summary: 'This document, generated from the route schemas' } }, async () => app.swagger());
};

/**
 * Has @fastify/swagger collect every route's schema into the OpenAPI document /openapi.json serves. It must be
 * registered on the root app before any route, since it learns routes as they are added.
 */
export async function registerOpenApi(app: FastifyInstance, options: { apiKey: boolean }): Promise<void> {
  const swagger = requireOptional<typeof import('@fastify/swagger')>('@fastify/swagger', "rankwise serve's /openapi.json").default;
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'rankwise serve', version: '1', description: 'Reranking and embeddings with ONNX models on the CPU.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      // Only a server started with an API key wants one; /health opts out with its own empty `security`.
      ...(options.apiKey ? { security: [{ bearer: [] }] } : {}),
    },
  });
}

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
