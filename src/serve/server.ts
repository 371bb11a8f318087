import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance } from 'fastify';
import { InputError, requireInstalled, requireOptional } from '../errors.js';
import type { ModelDtype } from '../models/model-folder.js';
import type { BatcherOptions } from './batcher.js';
import { clientError, HttpError, httpErrorOf, sendError } from './http-errors.js';
import { ServerMetrics } from './metrics.js';
import { cohereRoutes } from './routes/cohere.js';
import type { RouteContext } from './routes/context.js';
import { openAiEmbeddingsRoutes } from './routes/openai-embeddings.js';
import { operationsRoutes, registerOpenApi } from './routes/operations.js';
import { searchRoutes } from './routes/search.js';
import { teiRoutes } from './routes/tei.js';
import { SearchService } from './search-service.js';
import { ServedEmbedder } from './served-embedder.js';
import { ServedReranker } from './served-reranker.js';

export { HttpError } from './http-errors.js';
export { float32Base64 } from './routes/openai-embeddings.js';

export interface ServeOptions {
  /** Cross-encoder folder or hub id. */
  model: string;
  /** Bi-encoder folder or hub id, or `use-lite`; enables /embed and /v1/embeddings. */
  embedModel?: string;
  host?: string;
  /** 0 picks any free port. */
  port?: number;
  /** When set, every route but /health wants `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  maxBatchTokens?: number;
  /** Requests that may wait for the model before new ones get 429. */
  maxQueue?: number;
  batchWaitMs?: number;
  /** false scores each request on its own (as does batchWaitMs 0). */
  batching?: boolean;
  maxDocuments?: number;
  maxCharsPerDocument?: number;
  maxBodyBytes?: number;
  requestTimeoutMs?: number;
  dtype?: ModelDtype;
  threads?: number;
  /** A LanceDB folder from `rankwise index add`; enables POST /search (retrieve, then rerank). */
  index?: string;
  /** Semantic cache in front of /search: `redis://host:port` (shared by replicas) or a SQLite file. */
  cache?: string;
  cacheThreshold?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  /** `http://host:port` it listens on. */
  url: string;
  port: number;
  /** Stops accepting connections, finishes the requests already accepted, then releases the models. */
  close: () => Promise<void>;
}

const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  maxBatchTokens: 8192,
  maxQueue: 256,
  batchWaitMs: 5,
  maxDocuments: 1000,
  maxCharsPerDocument: 20000,
  maxBodyBytes: 2 * 1024 * 1024,
  requestTimeoutMs: 30000,
} as const;

type ResolvedOptions = ServeOptions & typeof DEFAULTS;

/** The optional packages the server runs on (package.json's peer dependencies). */
const SERVER_PACKAGES = ['fastify', 'prom-client', '@fastify/swagger'];

/** Loads the models, builds the fastify app and listens; resolves once requests can be served. */
export async function createServer(options: ServeOptions): Promise<RunningServer> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as ResolvedOptions;
  checkOptions(o);
  requireInstalled(SERVER_PACKAGES, 'rankwise serve');
  const metrics = new ServerMetrics(() => context.queueDepth());
  const context = await loadModels(o, metrics);
  const lifecycle = { shuttingDown: false };
  const app = buildApp(o, metrics, lifecycle);
  try {
    await registerOpenApi(app, { apiKey: o.apiKey !== undefined });
    for (const routes of [cohereRoutes, teiRoutes, openAiEmbeddingsRoutes, searchRoutes, operationsRoutes]) await app.register(routes, context);
    await app.listen({ host: o.host, port: o.port });
  } catch (error) {
    await releaseModels(context);
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // app.close stops accepting and waits for the requests already in handlers; the batchers then have nothing left.
      lifecycle.shuttingDown = true;
      await app.close();
      await context.reranker.close();
      await context.embedder?.close();
      await releaseModels(context);
    })());

  return { app, url: `http://${host}:${port}`, port, close };
}

function checkOptions(o: ResolvedOptions): void {
  const integers = ['port', 'maxBatchTokens', 'maxQueue', 'maxDocuments', 'maxCharsPerDocument', 'maxBodyBytes', 'requestTimeoutMs'] as const;
  for (const key of integers) {
    const v = o[key];
    const min = key === 'port' ? 0 : 1;
    if (!Number.isInteger(v) || v < min || (key === 'port' && v > 65535)) throw new InputError(`${key}: expected an integer >= ${min}, got ${v}`);
  }
  if (!Number.isFinite(o.batchWaitMs) || o.batchWaitMs < 0) throw new InputError(`batchWaitMs: expected a non-negative number, got ${o.batchWaitMs}`);
  if (typeof o.model !== 'string' || o.model === '') throw new InputError('model: expected a cross-encoder folder or hub id');
}

/** The reranker, then the optional embedding model and search index; what loaded is released if a later one fails. */
async function loadModels(o: ResolvedOptions, metrics: ServerMetrics): Promise<RouteContext> {
  const load = { dtype: o.dtype, threads: o.threads };
  const batching: BatcherOptions = {
    maxBatchTokens: o.maxBatchTokens,
    maxQueue: o.maxQueue,
    batchWaitMs: o.batchWaitMs,
    batching: o.batching,
    onBatch: (requests, items) => metrics.recordBatch(requests, items),
  };
  const limits = { maxDocuments: o.maxDocuments, maxCharsPerDocument: o.maxCharsPerDocument };
  const reranker = await ServedReranker.load(o.model, load, { ...batching, requestTimeoutMs: o.requestTimeoutMs });
  let embedder: ServedEmbedder | undefined;
  let search: SearchService | undefined;
  try {
    if (o.embedModel !== undefined) embedder = await ServedEmbedder.load(o.embedModel, load, batching, { ...limits, requestTimeoutMs: o.requestTimeoutMs });
    if (o.index !== undefined) search = await SearchService.open({ indexDir: o.index, cache: o.cache, cacheThreshold: o.cacheThreshold, load });
    else if (o.cache !== undefined) throw new InputError('cache: the semantic cache sits in front of /search, which needs an index');
  } catch (error) {
    await reranker.dispose();
    await embedder?.dispose();
    throw error;
  }
  const names = { model: o.model, embedModel: o.embedModel, index: o.index, cache: o.cache };
  return { names, limits, reranker, embedder, search, metrics, queueDepth: () => reranker.depth + (embedder?.depth ?? 0) };
}

async function releaseModels(context: RouteContext): Promise<void> {
  await context.search?.close();
  await context.reranker.dispose();
  await context.embedder?.dispose();
}

/** The fastify app with the server's cross-cutting behaviour; the routes come as plugins. */
function buildApp(o: ResolvedOptions, metrics: ServerMetrics, lifecycle: { shuttingDown: boolean }): FastifyInstance {
  const Fastify = requireOptional<typeof import('fastify')>('fastify', 'rankwise serve').default;
  const app = Fastify({
    logger: false,
    bodyLimit: o.maxBodyBytes,
    requestTimeout: o.requestTimeoutMs,
    // Node looks for requests past their timeout every connectionsCheckingInterval (30 s by default), so a slow
    // client was answered 30 to 60 s late; check often enough that the answer comes within ~10% of the timeout.
    http: { connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(o.requestTimeoutMs / 10))) },
    // A request whose headers and body do not arrive in time never reaches a handler: answer it here, in our shape.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => clientError(error, socket, o.requestTimeoutMs),
    // Fastify coerces types by default ("1" for 1, [x] for x); a wrong type must be an error here.
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
  });
  // Every route takes JSON; fastify would also parse text/plain and let the schema call it a bad body, not a bad type.
  app.removeContentTypeParser('text/plain');
  // Response schemas are there for the OpenAPI document; replies stay as JSON.stringify writes them (fastify's own
  // serializer would drop properties a schema does not list, such as a search result's metadata).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  if (o.apiKey !== undefined) requireApiKey(app, o.apiKey);
  limitBodyTime(app, o.requestTimeoutMs);
  // Without this, a keep-alive connection whose request was in flight at close() would hold the server open until
  // its idle timeout (72 s in fastify) instead of closing once its reply is sent.
  app.addHook('onSend', async (_request, reply) => {
    if (lifecycle.shuttingDown) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.recordRequest(request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((error: FastifyError | HttpError, _request, reply) => sendError(reply, httpErrorOf(error, o.maxBodyBytes)));
  answerUnknownRoutes(app);
  return app;
}

/** Every route but /health wants `Authorization: Bearer <apiKey>`. */
function requireApiKey(app: FastifyInstance, apiKey: string): void {
  const digest = createHash('sha256').update(apiKey).digest();
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url === '/health') return;
    if (!bearerMatches(request.headers.authorization, digest)) {
      reply.header('WWW-Authenticate', 'Bearer');
      return sendError(reply, new HttpError(401, 'authorization: expected "Bearer <api key>"', 'authorization'));
    }
  });
}

function bearerMatches(header: string | undefined, digest: Buffer): boolean {
  if (typeof header !== 'string') return false;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) return false;
  // Hashing first gives equal-length buffers, so timingSafeEqual applies and the key's length does not leak.
  return timingSafeEqual(createHash('sha256').update(match[1]).digest(), digest);
}

/**
 * Node times out a request whose headers are slow (clientError), but not one whose body stops arriving once the
 * headers are in: fastify would wait for it forever. Give the body the same limit, counted from the headers.
 */
function limitBodyTime(app: FastifyInstance, requestTimeoutMs: number): void {
  app.addHook('onRequest', async (request, reply) => {
    const raw = request.raw;
    if (raw.complete) return;
    const timer = setTimeout(() => {
      if (raw.complete || reply.sent || reply.raw.headersSent) return;
      reply.hijack();
      const body = JSON.stringify({ error: { message: `request: headers and body not received within the ${requestTimeoutMs} ms request timeout`, field: 'request' } });
      reply.raw.writeHead(408, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
      reply.raw.end(body, () => raw.socket.destroy());
    }, requestTimeoutMs);
    timer.unref();
    raw.once('end', () => clearTimeout(timer));
    reply.raw.once('close', () => clearTimeout(timer));
  });
}

/** Another method on a known path is 405 with `Allow`, an unknown path 404, both in the server's error shape. */
function answerUnknownRoutes(app: FastifyInstance): void {
  const allowed = new Map<string, string[]>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    allowed.set(route.url, [...new Set([...(allowed.get(route.url) ?? []), ...methods])]);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const methods = allowed.get(path);
    if (methods) {
      return sendError(reply, new HttpError(405, `method ${request.method} is not allowed on ${path}; use ${methods.join(' or ')}`, undefined, { Allow: methods.join(', ') }));
    }
    return sendError(reply, new HttpError(404, `no route ${request.method} ${path}`));
  });
}
