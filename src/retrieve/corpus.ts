import { readJsonLines, streamJsonLines } from '../util/jsonl.js';
import { describeValue } from '../util/describe.js';
import type { IndexedDocument } from './retriever.js';
import { InputError } from '../errors.js';

/**
 * Turns one parsed JSONL object into a document: `id` (string or number, kept as a string) and non-empty `text` are
 * required; every other field (`tier`, `title`, ...) goes into `metadata`. `where` prefixes errors (`docs.jsonl:3`).
 *
 * BEIR's corpus lines (`{"_id", "title", "text"}`) are read too: `_id` is the id, and a non-empty title is put in
 * front of the text (as BEIR's own BM25 and rerankers see it) and kept in `metadata.title`.
 */
export function documentFromJson(value: Record<string, unknown>, where: string): IndexedDocument {
  if (value.id === undefined && value._id !== undefined) return documentFromBeirJson(value, where);
  const { id, text, ...rest } = value;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) {
    throw new InputError(`${where}: "id": expected a string or a number, got ${describeValue(id)}`);
  }
  if (String(id) === '') throw new InputError(`${where}: "id": expected a non-empty string, got ""`);
  if (typeof text !== 'string' || text.trim() === '') {
    throw new InputError(`${where}: "text": expected a non-empty string, got ${describeValue(text)}`);
  }
  if (rest.tier !== undefined && rest.tier !== null && typeof rest.tier !== 'string' && typeof rest.tier !== 'number') {
    throw new InputError(`${where}: "tier": expected a string or a number, got ${describeValue(rest.tier)}`);
  }
  return Object.keys(rest).length > 0 ? { id: String(id), text, metadata: rest } : { id: String(id), text };
}

/**
 * Reads a JSONL corpus (or `.jsonl.gz`), one `{"id","text","tier"?, ...}` or BEIR `{"_id","title","text"}` per line. Errors name file, line and field; an id seen twice
 * is an error naming both lines (an index would silently keep only the last one).
 */
export async function readCorpus(file: string): Promise<IndexedDocument[]> {
  const seen = new Map<string, number>();
  const documents = (await readJsonLines(file, 'corpus')).map(({ line, value }) => {
    const document = documentFromJson(value, `${file}:${line}`);
    const first = seen.get(document.id);
    if (first !== undefined) throw new InputError(`${file}:${line}: "id": ${JSON.stringify(document.id)} already used on line ${first}`);
    seen.set(document.id, line);
    return document;
  });
  if (documents.length === 0) throw new InputError(`${file}: no documents in it`);
  return documents;
}

/**
 * Reads a corpus as readCorpus does, but streamed and in batches of `batchSize` documents, for corpora too large to
 * hold at once. The whole file is checked first (every line, ids unique across the file), so that a bad line near the
 * end fails before any batch is handed out. `onBytes` sees the bytes read by the check, `onChecked` the number of
 * documents once the check is done.
 */
export async function* readCorpusBatches(
  file: string,
  batchSize: number,
  progress: { onBytes?: (bytes: number) => void; onChecked?: (documents: number) => void } = {},
): AsyncGenerator<IndexedDocument[]> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batchSize: expected a positive integer, got ${batchSize}`);
  const seen = new Map<string, number>();
  for await (const { line, value } of streamJsonLines(file, 'corpus', progress.onBytes)) {
    const document = documentFromJson(value, `${file}:${line}`);
    const first = seen.get(document.id);
    if (first !== undefined) throw new InputError(`${file}:${line}: "id": ${JSON.stringify(document.id)} already used on line ${first}`);
    seen.set(document.id, line);
  }
  if (seen.size === 0) throw new InputError(`${file}: no documents in it`);
  progress.onChecked?.(seen.size);
  seen.clear();
  let batch: IndexedDocument[] = [];
  for await (const { line, value } of streamJsonLines(file, 'corpus')) {
    batch.push(documentFromJson(value, `${file}:${line}`));
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function documentFromBeirJson(value: Record<string, unknown>, where: string): IndexedDocument {
  const { _id, title, text, ...rest } = value;
  if (title !== undefined && title !== null && typeof title !== 'string') throw new InputError(`${where}: "title": expected a string, got ${describeValue(title)}`);
  if (typeof text !== 'string') throw new InputError(`${where}: "text": expected a string, got ${describeValue(text)}`);
  if (typeof _id !== 'string' && !(typeof _id === 'number' && Number.isFinite(_id))) {
    throw new InputError(`${where}: "_id": expected a string or a number, got ${describeValue(_id)}`);
  }
  if (String(_id) === '') throw new InputError(`${where}: "_id": expected a non-empty string, got ""`);
  const heading = typeof title === 'string' ? title.trim() : '';
  // Public BEIR corpora hold a few empty documents; they stay (they can be judged) rather than fail the whole file.
  const joined = heading === '' ? text : `${heading} ${text}`.trim();
  const metadata = heading === '' ? rest : { ...rest, title: heading };
  return Object.keys(metadata).length > 0 ? { id: String(_id), text: joined, metadata } : { id: String(_id), text: joined };
}
