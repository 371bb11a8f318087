/**
 * The one document type of rankwise: what an index stores, what a retriever finds, what moves through a funnel and
 * what a ranker returns. A caller's id and metadata go in with the text and come back with every result, so nobody
 * has to map positions back to their own records.
 */
import { InputError } from './errors.js';

export interface Document {
  /** The caller's key. Adding an existing id to an index replaces the document. */
  id: string;
  text: string;
  /** Free-form fields kept with the document and returned with it (titles, URLs, tier labels). */
  metadata?: Record<string, unknown>;
}

/** A document with the score the stage that found or ranked it gave it (higher is better). */
export interface ScoredDocument extends Document {
  score: number;
}

/** What a caller may pass: plain text (its id is then its position) or an object whose id may be a number. */
export type DocumentInput = string | { id?: string | number; text: string; metadata?: Record<string, unknown> };

/**
 * Checks and normalises a caller's documents: ids become strings (by default the input position, `"0"`, `"1"`, ...)
 * and must be unique. Errors name the field at fault (`documents[2].id`), under the name given as `field`.
 */
export function toDocuments(inputs: readonly DocumentInput[], field = 'documents'): Document[] {
  if (!Array.isArray(inputs)) throw new InputError(`${field}: expected an array of strings or {id?, text, metadata?} objects`, { field });
  const seen = new Map<string, number>();
  return inputs.map((input, i) => {
    const document = toDocument(input, i, `${field}[${i}]`);
    const earlier = seen.get(document.id);
    if (earlier !== undefined) throw new InputError(`${field}[${i}].id: "${document.id}" is also the id of ${field}[${earlier}]; ids must be unique`);
    seen.set(document.id, i);
    return document;
  });
}

function toDocument(input: unknown, position: number, where: string): Document {
  if (typeof input === 'string') return { id: String(position), text: input };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InputError(`${where}: expected a string or {id?, text, metadata?}, got ${describe(input)}`);
  }
  const { id, text, metadata } = input as { id?: unknown; text?: unknown; metadata?: unknown };
  if (typeof text !== 'string') throw new InputError(`${where}.text: expected a string, got ${describe(text)}`);
  if (id !== undefined && !(typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)))) {
    throw new InputError(`${where}.id: expected a string or a number, got ${describe(id)}`);
  }
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
    throw new InputError(`${where}.metadata: expected an object, got ${describe(metadata)}`);
  }
  return { id: id === undefined ? String(position) : String(id), text, ...(metadata ? { metadata: metadata as Record<string, unknown> } : {}) };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
