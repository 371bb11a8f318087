/**
 * The errors rankwise throws on purpose. Each kind has a stable `code` that callers can switch on instead of parsing
 * messages; the CLI turns it into an exit status and the server into an HTTP status (both from ERROR_KINDS, the one
 * table). Anything else that escapes is a bug and is reported as `internal`.
 */

import { createRequire } from 'node:module';

export const ERROR_KINDS = {
  /** A value given by the caller is wrong: a field, an option, a file's content. */
  invalid_input: { exitCode: 2, httpStatus: 400, meaning: 'a field, option or input file is invalid' },
  /** A model name, folder or hub id that does not resolve to a model. */
  model_not_found: { exitCode: 3, httpStatus: 404, meaning: 'the model could not be found' },
  /** A model folder that exists but cannot be used: missing outputs, corrupt tokenizer, wrong config. */
  model_invalid: { exitCode: 3, httpStatus: 500, meaning: 'the model files cannot be used' },
  /** An optional package, native addon or service that this feature needs is not there. */
  backend_unavailable: { exitCode: 4, httpStatus: 503, meaning: 'a package, native addon or service it needs is missing' },
  /** An LLM or embedding provider failed or refused. */
  provider_failed: { exitCode: 5, httpStatus: 502, meaning: 'an LLM or remote provider failed' },
  /** An index or cache that is locked by another writer, or whose files are not what rankwise wrote. */
  store_unavailable: { exitCode: 6, httpStatus: 503, meaning: 'an index or cache is locked or damaged' },
  /** The server's queue is full: retry shortly. */
  overloaded: { exitCode: 7, httpStatus: 429, meaning: 'too many requests are waiting; retry shortly' },
  internal: { exitCode: 1, httpStatus: 500, meaning: 'a bug: please report it' },
} as const satisfies Record<string, { exitCode: number; httpStatus: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_KINDS;

export interface RankwiseErrorOptions {
  /** The input field at fault (`documents[3].text`); defaults to the `field: ` prefix of the message. */
  field?: string;
  cause?: unknown;
}

/** `documents[3].text: expected a string` names the field `documents[3].text`; prose does not name one. */
const FIELD_PREFIX = /^([A-Za-z_$][\w$-]*(?:\[\d+\]|\.[A-Za-z_$][\w$-]*)*): /;

export abstract class RankwiseError extends Error {
  abstract readonly code: ErrorCode;
  readonly field?: string;

  constructor(message: string, options: RankwiseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    const field = options.field ?? FIELD_PREFIX.exec(message)?.[1];
    if (field !== undefined) this.field = field;
  }

  get exitCode(): number {
    return ERROR_KINDS[this.code].exitCode;
  }

  get httpStatus(): number {
    return ERROR_KINDS[this.code].httpStatus;
  }
}

export class InputError extends RankwiseError {
  readonly code = 'invalid_input';
}

export class ModelNotFoundError extends RankwiseError {
  readonly code = 'model_not_found';
}

export class ModelInvalidError extends RankwiseError {
  readonly code = 'model_invalid';
}

export class BackendUnavailableError extends RankwiseError {
  readonly code = 'backend_unavailable';
}

export class StoreError extends RankwiseError {
  readonly code = 'store_unavailable';
}

export class OverloadedError extends RankwiseError {
  readonly code = 'overloaded';
}

/**
 * A provider failure that says whether trying again can help: a 5xx, 429 or dropped connection can; a 401, a
 * malformed request or a prompt longer than the model's context cannot.
 */
export class ProviderError extends RankwiseError {
  readonly code = 'provider_failed';

  constructor(
    message: string,
    readonly retryable: boolean,
    options: RankwiseErrorOptions = {},
  ) {
    super(message, options);
  }
}

/**
 * The same error with context added to its message (the flag a file came from, how far a batch got), its class and
 * code kept: wrapping it in a new error would turn a locked store or a bad model into a generic one.
 */
export function withContext(error: unknown, prefix: string, suffix = ''): unknown {
  if (error instanceof Error) error.message = `${prefix}${error.message}${suffix}`;
  return error;
}

/** The code of any thrown value: ours say it, anything else is `internal`. */
export function errorCodeOf(error: unknown): ErrorCode {
  return error instanceof RankwiseError ? error.code : 'internal';
}

/** The CLI's exit status for a thrown value (see ERROR_KINDS). */
export function exitCodeOf(error: unknown): number {
  return ERROR_KINDS[errorCodeOf(error)].exitCode;
}

/** Node's "not installed" for the optional package itself (not for something that package failed to load). */
function isMissing(error: unknown, specifier: string): boolean {
  const e = error as NodeJS.ErrnoException;
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && String(e.message).includes(`'${specifier}'`);
}

function missingPackage(specifier: string, feature: string, cause: unknown): BackendUnavailableError {
  return new BackendUnavailableError(`${feature} needs the optional package "${specifier}": npm install ${specifier}`, { cause });
}

/**
 * Loads an optional package on demand; when it is not installed, says which package to install for which feature
 * instead of Node's "Cannot find package". The core never loads these up front (see package.json's peer dependencies).
 */
export async function importOptional<T>(specifier: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissing(error, specifier)) throw missingPackage(specifier, feature, error);
    throw error;
  }
}

const requireFromHere = createRequire(import.meta.url);
const required = new Map<string, unknown>();

/**
 * Checks up front that every package a feature needs is installed, so a user learns the whole `npm install` line at
 * once instead of one missing package per attempt.
 */
export function requireInstalled(specifiers: readonly string[], feature: string): void {
  const missing = specifiers.filter((specifier) => {
    try {
      requireFromHere.resolve(specifier);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new BackendUnavailableError(`${feature} needs the optional package${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}: npm install ${missing.join(' ')}`);
  }
}

/** {@link importOptional} for CommonJS packages that synchronous code needs (constructors, prepared statements). */
export function requireOptional<T>(specifier: string, feature: string): T {
  if (required.has(specifier)) return required.get(specifier) as T;
  try {
    const loaded = requireFromHere(specifier) as T;
    required.set(specifier, loaded);
    return loaded;
  } catch (error) {
    if (isMissing(error, specifier)) throw missingPackage(specifier, feature, error);
    throw error;
  }
}
