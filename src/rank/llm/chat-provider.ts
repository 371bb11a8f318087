import type { DisposableResource } from '../../util/disposable.js';

/** A JSON schema, as plain data (the subset chat APIs and llama.cpp grammars accept). */
export type JsonSchema = Record<string, unknown>;

export interface ChatRequest {
  system: string;
  user: string;
  /** The answer must be JSON valid under this schema; providers enforce it where the backend can. */
  schema: JsonSchema;
  /** A short name for the schema (OpenAI's `json_schema.name`). */
  schemaName?: string;
  /** Aborts the request (time-outs, caller cancellation). */
  signal?: AbortSignal;
}

/**
 * Anything that can answer one system + user prompt with text: a hosted API, a local server, an in-process
 * model. `dispose()` frees an in-process model and is a no-op for the others.
 */
export interface ChatProvider extends DisposableResource {
  readonly name: string;
  complete(request: ChatRequest): Promise<string>;
}

/** A provider failure that says whether trying again can help (see src/errors.ts). */
export { ProviderError } from '../../errors.js';
