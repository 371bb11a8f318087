import { readJsonLines } from '../util/jsonl.js';
import type { IndexedDocument } from './retriever.js';

/**
 * Turns one parsed JSONL object into a document: `id` (string or number, kept as a string) and non-empty `text` are
 * required; every other field (`tier`, `title`, ...) goes into `metadata`. `where` prefixes errors (`docs.jsonl:3`).
 */
export function documentFromJson(value: Record<string, unknown>, where: string): IndexedDocument {
  const { id, text, ...rest } = value;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) {
    throw new Error(`${where}: "id": expected a string or a number, got ${describe(id)}`);
  }
  if (String(id) === '') throw new Error(`${where}: "id": expected a non-empty string, got ""`);
  if (typeof text !== 'string' || text.trim() === '') {
    throw new Error(`${where}: "text": expected a non-empty string, got ${describe(text)}`);
  }
  if (rest.tier !== undefined && rest.tier !== null && typeof rest.tier !== 'string' && typeof rest.tier !== 'number') {
    throw new Error(`${where}: "tier": expected a string or a number, got ${describe(rest.tier)}`);
  }
  return Object.keys(rest).length > 0 ? { id: String(id), text, metadata: rest } : { id: String(id), text };
}

/**
 * Reads a JSONL corpus, one `{"id","text","tier"?, ...}` per line. Errors name file, line and field; an id seen twice
 * is an error naming both lines (an index would silently keep only the last one).
 */
export async function readCorpus(file: string): Promise<IndexedDocument[]> {
  const seen = new Map<string, number>();
  const documents = (await readJsonLines(file, 'corpus')).map(({ line, value }) => {
    const document = documentFromJson(value, `${file}:${line}`);
    const first = seen.get(document.id);
    if (first !== undefined) throw new Error(`${file}:${line}: "id": ${JSON.stringify(document.id)} already used on line ${first}`);
    seen.set(document.id, line);
    return document;
  });
  if (documents.length === 0) throw new Error(`${file}: no documents in it`);
  return documents;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 40 ? `${json.slice(0, 39)}…` : json;
}
