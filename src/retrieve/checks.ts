/** Input checks shared by every Retriever, so that all of them reject bad input with the same messages. */
import type { IndexedDocument, SearchMode, SearchOptions } from './retriever.js';
import { InputError } from '../errors.js';

export const DEFAULT_K = 10;

/**
 * Validates documents before they are written and keeps only the last of repeated ids (adding an existing id
 * replaces it, and a batch is applied as if added one by one). Errors name the position and the field.
 */
export function checkDocuments(documents: readonly IndexedDocument[]): IndexedDocument[] {
  if (!Array.isArray(documents)) throw new InputError(`documents: expected an array, got ${typeof documents}`);
  const byId = new Map<string, IndexedDocument>();
  documents.forEach((document, i) => {
    if (typeof document !== 'object' || document === null) throw new InputError(`documents[${i}]: expected an object {id, text, metadata?}`);
    if (typeof document.id !== 'string' || document.id === '') {
      throw new InputError(`documents[${i}].id: expected a non-empty string, got ${JSON.stringify(document.id) ?? 'nothing'}`);
    }
    if (typeof document.text !== 'string') throw new InputError(`documents[${i}].text: expected a string, got ${typeof document.text}`);
    const metadata = document.metadata;
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
      throw new InputError(`documents[${i}].metadata: expected an object or nothing, got ${JSON.stringify(metadata)}`);
    }
    byId.delete(document.id); // re-insert so that the batch order follows the last occurrence
    byId.set(document.id, document);
  });
  return [...byId.values()];
}

export function checkIds(ids: readonly string[]): string[] {
  if (!Array.isArray(ids)) throw new InputError(`ids: expected an array of strings, got ${typeof ids}`);
  ids.forEach((id, i) => {
    if (typeof id !== 'string' || id === '') throw new InputError(`ids[${i}]: expected a non-empty string, got ${JSON.stringify(id) ?? 'nothing'}`);
  });
  return [...new Set(ids)];
}

export interface ResolvedSearch {
  k: number;
  mode: SearchMode;
  vector?: Float32Array;
}

/** Fills defaults and rejects what this retriever cannot do, with a reason (`why`) for unsupported modes. */
export function checkSearch(
  query: string,
  options: SearchOptions,
  supported: readonly SearchMode[],
  defaultMode: SearchMode,
  why: (mode: SearchMode) => string,
): ResolvedSearch {
  if (typeof query !== 'string') throw new InputError(`query: expected a string, got ${typeof query}`);
  const k = options.k ?? DEFAULT_K;
  if (!Number.isInteger(k) || k < 1) throw new InputError(`k: expected a positive integer, got ${k}`);
  const mode = options.mode ?? defaultMode;
  if (!['text', 'vector', 'hybrid'].includes(mode)) throw new InputError(`mode: expected text, vector or hybrid, got ${JSON.stringify(mode)}`);
  if (!supported.includes(mode)) throw new InputError(`mode: ${mode} is not supported here (supported: ${supported.join(', ')}): ${why(mode)}`);
  if (options.vector !== undefined && !(options.vector instanceof Float32Array)) {
    throw new InputError(`vector: expected a Float32Array, got ${typeof options.vector}`);
  }
  if (mode !== 'vector' && query.trim() === '') throw new InputError(`query: expected non-empty text for ${mode} search`);
  return { k, mode, vector: options.vector };
}
