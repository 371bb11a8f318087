import { extname } from 'node:path';
import { readJsonLines, streamJsonLines, streamTextLines } from '../util/jsonl.js';
import { InputError } from '../errors.js';

export { readJsonLines };

export interface InputDocument {
  id?: string;
  text: string;
}

/** Most documents `--docs` may hold for commands that score every document against a query. */
export const DEFAULT_MAX_DOCUMENTS = 100_000;

export interface ReadDocumentsOptions {
  /** More documents than this is an error that names the file and the limit (default DEFAULT_MAX_DOCUMENTS). */
  maxDocuments?: number;
  /** Bytes read from the file so far, for a progress line against jsonLinesSize(path). */
  onBytes?: (bytes: number) => void;
}

/**
 * Documents from a `.txt` file (one per non-empty line) or a `.jsonl` file (`{"text"}` or `{"id","text"}` per line),
 * streamed line by line (a `.gz` name is gunzipped, a BOM dropped), and held to a limit: a file too large to score
 * stops with an error as soon as it passes the limit, not after it was read whole.
 */
export async function readDocuments(path: string, options: ReadDocumentsOptions = {}): Promise<InputDocument[]> {
  const limit = options.maxDocuments ?? DEFAULT_MAX_DOCUMENTS;
  const documents: InputDocument[] = [];
  const add = (document: InputDocument) => {
    if (documents.length === limit) {
      throw new InputError(`--docs ${path}: more than ${limit} documents; every one is scored against the query, so index a corpus this large ("rankwise index add") and rerank what a search returns, or raise --max-docs`);
    }
    documents.push(document);
  };
  if (/\.jsonl(\.gz)?$/i.test(path) || extname(path).toLowerCase() === '.jsonl') {
    for await (const { line, value } of streamJsonLines(path, '--docs', options.onBytes)) {
      if (typeof value.text !== 'string') throw new InputError(`${path}:${line}: field "text" must be a string`);
      if (value.id !== undefined && typeof value.id !== 'string' && typeof value.id !== 'number') {
        throw new InputError(`${path}:${line}: field "id" must be a string or a number`);
      }
      add({ text: value.text, ...(value.id !== undefined ? { id: String(value.id) } : {}) });
    }
  } else {
    for await (const { raw } of streamTextLines(path, '--docs', options.onBytes)) {
      if (raw.trim() !== '') add({ text: raw });
    }
  }
  if (documents.length === 0) throw new InputError(`--docs ${path}: no documents in it`);
  return documents;
}
