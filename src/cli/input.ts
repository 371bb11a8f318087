import { extname } from 'node:path';
import { readJsonLines, readText } from '../util/jsonl.js';

export { readJsonLines };

export interface InputDocument {
  id?: string;
  text: string;
}

/** Documents from a `.txt` file (one per non-empty line) or a `.jsonl` file (`{"text"}` or `{"id","text"}` per line). */
export async function readDocuments(path: string): Promise<InputDocument[]> {
  let documents: InputDocument[];
  if (extname(path).toLowerCase() === '.jsonl') {
    documents = (await readJsonLines(path, '--docs')).map(({ line, value }) => {
      if (typeof value.text !== 'string') throw new Error(`${path}:${line}: field "text" must be a string`);
      if (value.id !== undefined && typeof value.id !== 'string' && typeof value.id !== 'number') {
        throw new Error(`${path}:${line}: field "id" must be a string or a number`);
      }
      return { text: value.text, ...(value.id !== undefined ? { id: String(value.id) } : {}) };
    });
  } else {
    documents = (await readText(path, '--docs'))
      .split('\n')
      .map((line) => line.replace(/\r$/, ''))
      .filter((line) => line.trim() !== '')
      .map((text) => ({ text }));
  }
  if (documents.length === 0) throw new Error(`--docs ${path}: no documents in it`);
  return documents;
}
