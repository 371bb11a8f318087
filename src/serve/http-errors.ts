import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply } from 'fastify';
import { RankwiseError } from '../errors.js';
import { QueueFullError, ShuttingDownError } from './batcher.js';

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

export function sendError(reply: FastifyReply, error: HttpError): FastifyReply {
  reply.code(error.statusCode).headers(error.headers);
  return reply.send({ error: { message: error.message, ...(error.field !== undefined ? { field: error.field } : {}) } });
}

/** Any error a handler threw, in the server's shape: our own, a schema violation, fastify's 4xx, else a 500. */
export function httpErrorOf(error: FastifyError | HttpError | RankwiseError, maxBodyBytes: number): HttpError {
  if (error instanceof HttpError) return error;
  // Typed errors from the core carry their own status (ERROR_KINDS); a 5xx among them is still logged.
  if (error instanceof RankwiseError) {
    if (error.httpStatus >= 500) process.stderr.write(`rankwise serve: ${error.stack ?? error.message}\n`);
    return new HttpError(error.httpStatus, error.message, error.field);
  }
  if (error.validation) return validationError(error.validation as AjvError[]);
  const status = error.statusCode ?? 500;
  if (status === 413) return new HttpError(413, `body: larger than the ${maxBodyBytes}-byte limit`, 'body');
  if (status >= 400 && status < 500) return new HttpError(status, `body: ${error.message}`, 'body');
  process.stderr.write(`rankwise serve: ${error.stack ?? error.message}\n`);
  return new HttpError(500, 'internal error while serving the request');
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

/** `/documents/3/text` (ajv's instancePath) as `documents[3].text`. */
function fieldName(instancePath: string, missing?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (missing !== undefined) parts.push(missing);
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? 'body' : out;
}

/** The limits every text a request sends is checked against. */
export interface TextLimits {
  maxDocuments: number;
  maxCharsPerDocument: number;
}

/** A list of texts within the limits: 400 when empty, 413 naming the list or the text that is too large. */
export function checkTexts(field: string, texts: readonly string[], limits: TextLimits): void {
  if (texts.length === 0) throw new HttpError(400, `${field}: expected at least one text`, field);
  if (texts.length > limits.maxDocuments) {
    throw new HttpError(413, `${field}: ${texts.length} texts, more than the limit of ${limits.maxDocuments}`, field);
  }
  texts.forEach((t, i) => {
    if (t.length > limits.maxCharsPerDocument) {
      throw new HttpError(413, `${field}[${i}]: ${t.length} characters, more than the limit of ${limits.maxCharsPerDocument}`, `${field}[${i}]`);
    }
  });
}

/** A non-empty query within the character limit. */
export function checkQuery(query: string, limits: TextLimits): void {
  if (query.trim() === '') throw new HttpError(400, 'query: expected a non-empty query', 'query');
  if (query.length > limits.maxCharsPerDocument) {
    throw new HttpError(413, `query: ${query.length} characters, more than the limit of ${limits.maxCharsPerDocument}`, 'query');
  }
}

/**
 * Waits for `work` up to the request timeout; `cancel` says whether the work was still only queued (503: the model
 * was busy) or already running (504). A full queue is 429 and a closing server 503.
 */
export async function withTimeout<T>(work: Promise<T>, cancel: () => boolean, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        cancel()
          ? new HttpError(503, `timed out after ${timeoutMs} ms waiting for the model`, undefined, { 'Retry-After': '1' })
          : new HttpError(504, `timed out after ${timeoutMs} ms while scoring`),
      );
    }, timeoutMs);
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

/**
 * Answers a request that failed before reaching fastify's routing (Node's request timeout, a malformed request line)
 * in the server's error shape, then closes the connection, as Node does.
 */
export function clientError(error: NodeJS.ErrnoException, socket: Duplex, requestTimeoutMs: number): void {
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
