import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { BiEncoder } from '../models/bi-encoder.js';
import type { ModelDtype } from '../models/model-folder.js';
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import type { Encoded, SequenceTokenizer } from '../models/tokenizer.js';
import { loadSentenceEncoder } from '../models/load-encoder.js';
import { DEFAULT_RERANKER, loadRanker } from '../rank/load-ranker.js';
import { builtInModelFolder } from '../models/shipped-model.js';
import { readHybridConfig } from '../rank/hybrid-ranker.js';
import { scoresOf, type Ranker } from '../rank/results.js';
import { CrossEncoder, sigmoid } from '../rank/cross-encoder.js';
import { checkCrossEncoderOnnx } from '../models/check-model.js';
import { numLabels } from '../models/config.js';
import { QueueFullError, RequestBatcher, ScoreBatcher, ShuttingDownError } from './batcher.js';
import { l2normalize } from '../models/vectors.js';
import { ServerMetrics } from './metrics.js';
import { cohereRerankBody, openAiEmbeddingsBody, openApiDocument, searchBody, teiEmbedBody, teiRerankBody } from './schemas.js';
import type { SearchMode } from '../retrieve/retriever.js';
import { SearchService, type SearchRequest } from './search-service.js';

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

/** An error answered as `{"error": {"message", "field"}}` with the given status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function checkOptions(o: Required<Omit<ServeOptions, 'embedModel' | 'apiKey' | 'dtype' | 'threads' | 'batching' | 'index' | 'cache' | 'cacheThreshold'>>): void {
  const integers = ['port', 'maxBatchTokens', 'maxQueue', 'maxDocuments', 'maxCharsPerDocument', 'maxBodyBytes', 'requestTimeoutMs'] as const;
  for (const key of integers) {
    const v = o[key];
    const min = key === 'port' ? 0 : 1;
    if (!Number.isInteger(v) || v < min || (key === 'port' && v > 65535)) throw new Error(`${key}: expected an integer >= ${min}, got ${v}`);
  }
  if (!Number.isFinite(o.batchWaitMs) || o.batchWaitMs < 0) throw new Error(`batchWaitMs: expected a non-negative number, got ${o.batchWaitMs}`);
  if (typeof o.model !== 'string' || o.model === '') throw new Error('model: expected a cross-encoder folder or hub id');
}

/** `/documents/3/text` (ajv's instancePath) as `documents[3].text`. */
function fieldName(instancePath: string, missing?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (missing !== undefined) parts.push(missing);
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? 'body' : out;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function validationError(errors: AjvError[]): HttpError {
  // Under anyOf, ajv lists each failed branch first; the anyOf entry itself says what the field should have been.
  const error = errors.find((e) => e.keyword === 'anyOf') ?? errors[0];
  const missing = error.keyword === 'required' ? String(error.params.missingProperty) : undefined;
  const field = fieldName(error.instancePath, missing);
  let message: string;
  if (missing !== undefined) message = 'is required';
  else if (error.keyword === 'anyOf') {
    message = field.startsWith('documents') ? 'must be a string or an object with a string "text"' : 'must be a string or an array of strings';
  } else message = error.message ?? 'is invalid';
  return new HttpError(400, `${field}: ${message}`, field);
}

function sendError(reply: FastifyReply, error: HttpError): FastifyReply {
  reply.code(error.statusCode).headers(error.headers);
  return reply.send({ error: { message: error.message, ...(error.field !== undefined ? { field: error.field } : {}) } });
}

function bearerMatches(header: string | undefined, digest: Buffer): boolean {
  if (typeof header !== 'string') return false;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) return false;
  // Hashing first gives equal-length buffers, so timingSafeEqual applies and the key's length does not leak.
  return timingSafeEqual(createHash('sha256').update(match[1]).digest(), digest);
}

/** Loads the models, builds the fastify app and listens; resolves once requests can be served. */
export async function createServer(options: ServeOptions): Promise<RunningServer> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as ServeOptions & typeof DEFAULTS;
  checkOptions(o);
  const loadOptions = { dtype: o.dtype, threads: o.threads };
  // The built-in reranker ships in the package; its first load makes it runnable in the model cache (no training).
  const modelPath = o.model === DEFAULT_RERANKER ? await builtInModelFolder(DEFAULT_RERANKER) : o.model;
  // A cross-encoder is scored through the token batcher; a hybrid model (the built-in one, `rankwise adapt`'s) through
  // its own Ranker, whose scores are already what the routes report.
  const model: RerankModel = (await readHybridConfig(modelPath))
    ? { kind: 'ranker', ranker: await loadRanker(modelPath, loadOptions) }
    : { kind: 'cross-encoder', crossEncoder: await CrossEncoder.load(modelPath, { ...loadOptions, name: o.model }) };
  const disposeModel = () => (model.kind === 'ranker' ? model.ranker.dispose?.() : model.crossEncoder.dispose());
  let embedder: SentenceEncoder | undefined;
  let searchService: SearchService | undefined;
  try {
    // A model that loads is not yet one that scores: check the graph, then score one pair, before listening.
    if (model.kind === 'cross-encoder') checkCrossEncoderOnnx(model.crossEncoder.folder.onnxPath);
    await probeModel(model);
    if (o.embedModel !== undefined) embedder = await loadSentenceEncoder(o.embedModel, loadOptions);
    if (o.index !== undefined) searchService = await SearchService.open({ indexDir: o.index, cache: o.cache, cacheThreshold: o.cacheThreshold, load: loadOptions });
    else if (o.cache !== undefined) throw new Error('cache: the semantic cache sits in front of /search, which needs an index');
  } catch (error) {
    await disposeModel();
    await embedder?.dispose?.();
    throw error;
  }
  const releaseModels = async () => {
    await searchService?.close();
    await disposeModel();
    await embedder?.dispose?.();
  };

  let metrics: ServerMetrics;
  const batcher = model.kind === 'cross-encoder' ? new ScoreBatcher(model.crossEncoder, {
    maxBatchTokens: o.maxBatchTokens,
    maxQueue: o.maxQueue,
    batchWaitMs: o.batchWaitMs,
    batching: o.batching,
    onBatch: (requests, sequences) => metrics.recordBatch(requests, sequences),
  }) : undefined;
  // Texts from concurrent embedding requests share encoder calls too. Vectors come back raw and each request
  // normalises its own, since one request may ask for normalize: false and another not.
  const embedBatcher = embedder && new RequestBatcher<string, Float32Array>(
    (texts) => embedder!.encode(texts, { normalize: false, batchSize: 64 }),
    (text) => embeddingTokens(embedder!, text),
    {
      maxBatchTokens: o.maxBatchTokens,
      maxQueue: o.maxQueue,
      batchWaitMs: o.batchWaitMs,
      batching: o.batching,
      onBatch: (requests, texts) => metrics.recordBatch(requests, texts),
    },
  );
  const queueDepth = () => (batcher?.depth ?? 0) + (embedBatcher?.depth ?? 0);
  metrics = new ServerMetrics(queueDepth);
  const keyDigest = o.apiKey !== undefined ? createHash('sha256').update(o.apiKey).digest() : undefined;
  /** What a route reports as a document's relevance: a cross-encoder's sigmoid, or a ranker's own score. */
  const relevance = model.kind === 'cross-encoder' ? sigmoid : (score: number) => score;

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

  app.addHook('onRequest', async (request, reply) => {
    if (!keyDigest || request.routeOptions.url === '/health') return;
    if (!bearerMatches(request.headers.authorization, keyDigest)) {
      reply.header('WWW-Authenticate', 'Bearer');
      return sendError(reply, new HttpError(401, 'authorization: expected "Bearer <api key>"', 'authorization'));
    }
  });

  // Node times out a request whose headers are slow (clientError above), but not one whose body stops arriving once
  // the headers are in: fastify would wait for it forever. Give the body the same limit, counted from the headers.
  app.addHook('onRequest', async (request, reply) => {
    const raw = request.raw;
    if (raw.complete) return;
    const timer = setTimeout(() => {
      if (raw.complete || reply.sent || reply.raw.headersSent) return;
      reply.hijack();
      const body = JSON.stringify({ error: { message: `request: headers and body not received within the ${o.requestTimeoutMs} ms request timeout`, field: 'request' } });
      reply.raw.writeHead(408, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
      reply.raw.end(body, () => raw.socket.destroy());
    }, o.requestTimeoutMs);
    timer.unref();
    raw.once('end', () => clearTimeout(timer));
    reply.raw.once('close', () => clearTimeout(timer));
  });

  let shuttingDown = false;
  // Without this, a keep-alive connection whose request was in flight at close() would hold the server open until
  // its idle timeout (72 s in fastify) instead of closing once its reply is sent.
  app.addHook('onSend', async (_request, reply) => {
    if (shuttingDown) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.recordRequest(request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error: FastifyError | HttpError, _request, reply) => {
    if (error instanceof HttpError) return sendError(reply, error);
    if (error.validation) return sendError(reply, validationError(error.validation as AjvError[]));
    const status = error.statusCode ?? 500;
    if (status === 413) return sendError(reply, new HttpError(413, `body: larger than the ${o.maxBodyBytes}-byte limit`, 'body'));
    if (status >= 400 && status < 500) return sendError(reply, new HttpError(status, `body: ${error.message}`, 'body'));
    process.stderr.write(`rankwise serve: ${error.stack ?? error.message}\n`);
    return sendError(reply, new HttpError(500, 'internal error while serving the request'));
  });

  /** Methods each path answers, filled as routes are added: another method on a known path is 405, not 404. */
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

  /** Waits for `work` up to the request timeout; `cancel` says whether the work was still only queued. */
  async function withTimeout<T>(work: Promise<T>, cancel: () => boolean): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          cancel()
            ? new HttpError(503, `timed out after ${o.requestTimeoutMs} ms waiting for the model`, undefined, { 'Retry-After': '1' })
            : new HttpError(504, `timed out after ${o.requestTimeoutMs} ms while scoring`),
        );
      }, o.requestTimeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (error) {
      if (error instanceof QueueFullError) throw new HttpError(429, error.message, undefined, { 'Retry-After': '1' });
      if (error instanceof ShuttingDownError) throw new HttpError(503, error.message);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  function checkTexts(field: string, texts: readonly string[]): void {
    if (texts.length === 0) throw new HttpError(400, `${field}: expected at least one text`, field);
    if (texts.length > o.maxDocuments) {
      throw new HttpError(413, `${field}: ${texts.length} texts, more than the limit of ${o.maxDocuments}`, field);
    }
    texts.forEach((t, i) => {
      if (t.length > o.maxCharsPerDocument) {
        throw new HttpError(413, `${field}[${i}]: ${t.length} characters, more than the limit of ${o.maxCharsPerDocument}`, `${field}[${i}]`);
      }
    });
  }

  function tokenIds(tokenizer: SequenceTokenizer, field: string, text: string): number[] {
    try {
      return tokenizer.tokenIds(text);
    } catch (error) {
      throw new HttpError(400, `${field}: cannot be tokenized (${(error as Error).message})`, field);
    }
  }

  /**
   * The model's raw scores of `query` against each document: a cross-encoder's logits through the shared batcher, or
   * a ranker's scores (see `relevance`).
   */
  async function logits(query: string, docsField: string, docs: readonly string[], fit: { truncate: boolean; maxTokensPerDoc?: number }): Promise<ArrayLike<number>> {
    if (query.trim() === '') throw new HttpError(400, 'query: expected a non-empty query', 'query');
    if (query.length > o.maxCharsPerDocument) {
      throw new HttpError(413, `query: ${query.length} characters, more than the limit of ${o.maxCharsPerDocument}`, 'query');
    }
    checkTexts(docsField, docs);
    if (model.kind === 'ranker') return withTimeout(scoresOf(model.ranker, query, docs), () => false);
    const { tokenizer, maxLength } = model.crossEncoder;
    const queryIds = tokenIds(tokenizer, 'query', query);
    const sequences: Encoded[] = docs.map((doc, i) => {
      const field = `${docsField}[${i}]`;
      let docIds = tokenIds(tokenizer, field, doc);
      if (fit.maxTokensPerDoc !== undefined && docIds.length > fit.maxTokensPerDoc) docIds = docIds.slice(0, fit.maxTokensPerDoc);
      const length = queryIds.length + docIds.length + 3;
      if (!fit.truncate && length > maxLength) {
        throw new HttpError(413, `${field}: the query and this text are ${length} tokens, more than the model's ${maxLength}; send "truncate": true to cut it`, field);
      }
      return tokenizer.pairFromIds(queryIds, docIds, maxLength);
    });
    const submitted = batcher!.submit(sequences);
    return withTimeout(submitted.scores, submitted.cancel);
  }

  function ranked(scores: ArrayLike<number>): number[] {
    return Array.from(scores, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  }

  app.post<{
    Body: { model?: string; query: string; documents: Array<string | { text: string }>; top_n?: number; max_tokens_per_doc?: number; return_documents?: boolean };
  }>('/v2/rerank', { schema: { body: cohereRerankBody } }, async (request) => {
    const body = request.body;
    const texts = body.documents.map((d) => (typeof d === 'string' ? d : d.text));
    const raw = await logits(body.query, 'documents', texts, { truncate: true, maxTokensPerDoc: body.max_tokens_per_doc });
    const order = ranked(raw).slice(0, body.top_n ?? texts.length);
    return {
      id: randomUUID(),
      results: order.map((index) => ({
        index,
        relevance_score: relevance(raw[index]),
        ...(body.return_documents ? { document: { text: texts[index] } } : {}),
      })),
      meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } },
    };
  });

  app.post<{ Body: { query: string; texts: string[]; raw_scores?: boolean; return_text?: boolean; truncate?: boolean } }>(
    '/rerank',
    { schema: { body: teiRerankBody } },
    async (request) => {
      const body = request.body;
      // TEI's default: a text that does not fit is an error, not silently cut.
      const raw = await logits(body.query, 'texts', body.texts, { truncate: body.truncate === true });
      return ranked(raw).map((index) => ({
        index,
        score: body.raw_scores ? raw[index] : relevance(raw[index]),
        ...(body.return_text ? { text: body.texts[index] } : {}),
      }));
    },
  );

  if (embedder) {
    const encoder = embedder;
    const embed = async (field: string, input: string | string[], normalize: boolean): Promise<Float32Array[]> => {
      const texts = typeof input === 'string' ? [input] : input;
      checkTexts(field, texts);
      const submitted = embedBatcher!.submit(texts);
      const vectors = await withTimeout(submitted.results, submitted.cancel);
      return normalize ? vectors.map((v) => l2normalize(v)) : vectors;
    };
    const countTokens = (texts: string[]): number => texts.reduce((n, t) => n + embeddingTokens(encoder, t), 0);

    app.post<{ Body: { inputs: string | string[]; normalize?: boolean } }>('/embed', { schema: { body: teiEmbedBody } }, async (request) => {
      const vectors = await embed('inputs', request.body.inputs, request.body.normalize !== false);
      return vectors.map((v) => Array.from(v));
    });

    app.post<{ Body: { input: string | string[]; model?: string; encoding_format?: 'float' | 'base64'; dimensions?: number } }>(
      '/v1/embeddings',
      { schema: { body: openAiEmbeddingsBody } },
      async (request) => {
        const { input, dimensions } = request.body;
        if (dimensions !== undefined && dimensions > encoder.dimension) {
          throw new HttpError(400, `dimensions: expected at most ${encoder.dimension} (the model's dimension), got ${dimensions}`, 'dimensions');
        }
        let vectors = await embed('input', input, true);
        // OpenAI's shortened embeddings: the leading dimensions, normalised again to unit length.
        if (dimensions !== undefined && dimensions < encoder.dimension) vectors = vectors.map((v) => l2normalize(v.subarray(0, dimensions)));
        const base64 = request.body.encoding_format === 'base64';
        const tokens = countTokens(typeof input === 'string' ? [input] : input);
        return {
          object: 'list',
          data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: base64 ? float32Base64(v) : Array.from(v) })),
          model: request.body.model ?? encoder.name,
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        };
      },
    );
  }

  if (searchService) {
    const search = searchService;
    app.post<{ Body: SearchRequest }>('/search', { schema: { body: searchBody } }, async (request) => {
      const body = request.body;
      if (body.query.trim() === '') throw new HttpError(400, 'query: expected a non-empty query', 'query');
      let mode: SearchMode;
      try {
        mode = search.resolveMode(body.mode);
      } catch (error) {
        throw new HttpError(400, (error as Error).message, 'mode');
      }
      return search.search({ ...body, mode }, async (query, texts) => ({ scores: await logits(query, 'results', texts, { truncate: true }), relevance }));
    });
  }

  // /health says ok only after the model has scored a pair; one probe serves every health check within a second.
  let probe: { at: number; error: string | null } | undefined;
  let probing: Promise<string | null> | undefined;
  const healthProbe = (): Promise<string | null> => {
    if (probe && Date.now() - probe.at < HEALTH_PROBE_TTL_MS) return Promise.resolve(probe.error);
    probing ??= probeModel(model)
      .then(() => null, (error: Error) => error.message)
      .then((error) => {
        probe = { at: Date.now(), error };
        probing = undefined;
        return error;
      });
    return probing;
  };

  app.get('/health', async (_request, reply) => {
    const error = await healthProbe();
    if (error !== null) reply.code(503);
    return {
      status: error === null ? 'ok' : 'error',
      ...(error !== null ? { error } : {}),
      model: o.model,
      ...(o.embedModel ? { embed_model: o.embedModel } : {}),
      ...(o.index ? { index: o.index, cache: o.cache ? (o.cache.startsWith('redis') ? 'redis' : 'sqlite') : null } : {}),
      queue: queueDepth(),
    };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return metrics.render();
  });

  const openApi = openApiDocument({ version: '1', embeddings: embedder !== undefined, search: searchService !== undefined });
  app.get('/openapi.json', async () => openApi);

  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (error) {
    await releaseModels();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // app.close stops accepting and waits for the requests already in handlers; the batcher then has nothing left.
      shuttingDown = true;
      await app.close();
      await batcher?.close();
      await embedBatcher?.close();
      await releaseModels();
    })());

  return { app, url: `http://${host}:${port}`, port, close };
}

const HEALTH_PROBE_TTL_MS = 1000;

/**
 * Scores one short pair and checks that a finite score comes back: the graph runs with the inputs we feed, and its
 * logits agree with the labels config.json declares. The error names the model file.
 */
async function probeModel(model: RerankModel): Promise<void> {
  const path = model.kind === 'cross-encoder' ? model.crossEncoder.folder.onnxPath : model.ranker.name;
  let scores: ArrayLike<number>;
  try {
    scores =
      model.kind === 'cross-encoder'
        ? await model.crossEncoder.predict([['rankwise health check', 'a short document to score']], { activation: 'none' })
        : await scoresOf(model.ranker, 'rankwise health check', ['a short document to score']);
  } catch (error) {
    throw new Error(`${path}: scoring one test pair failed (${(error as Error).message})`);
  }
  if (scores.length !== 1 || !Number.isFinite(scores[0])) {
    const labels = model.kind === 'cross-encoder' ? ` (config.json declares ${numLabels(model.crossEncoder.config)} label(s): does the graph's "logits" output have as many?)` : '';
    throw new Error(`${path}: scoring one test pair gave ${scores[0]}, expected a finite number${labels}`);
  }
}

/** The reranking model a server runs: a cross-encoder (batched by tokens) or any other Ranker (a hybrid model). */
type RerankModel = { kind: 'cross-encoder'; crossEncoder: CrossEncoder } | { kind: 'ranker'; ranker: Ranker };

/** Float32 values as little-endian bytes in base64, the form OpenAI's `encoding_format: "base64"` returns. */
export function float32Base64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes.toString('base64');
}

/**
 * Answers a request that failed before reaching fastify's routing (Node's request timeout, a malformed request line)
 * in the server's error shape, then closes the connection, as Node does.
 */
function clientError(error: NodeJS.ErrnoException, socket: import('node:stream').Duplex, requestTimeoutMs: number): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', `request: headers and body not received within the ${requestTimeoutMs} ms request timeout`]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'headers: larger than the server accepts']
        : [400, 'Bad Request', `request: not a valid HTTP request (${error.code ?? error.message})`];
  const body = JSON.stringify({ error: { message, field: status === 431 ? 'headers' : 'request' } });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

/** Tokens an embedding input costs: the model's own count for a BERT-family encoder, words otherwise. */
function embeddingTokens(encoder: SentenceEncoder, text: string): number {
  if (encoder instanceof BiEncoder) return encoder.tokenizer.encodeSingle(text, { maxLength: encoder.maxLength }).inputIds.length;
  return text.match(/\S+/g)?.length ?? 0;
}
