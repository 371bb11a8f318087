import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';

export interface InputDocument {
  id?: string;
  text: string;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

/** Parses JSON Lines; blank lines are skipped, a malformed line is an error that names file and line number. */
export async function readJsonLines(path: string, what: string): Promise<Array<{ line: number; value: Record<string, unknown> }>> {
  const rows: Array<{ line: number; value: Record<string, unknown> }> = [];
  (await readText(path, what)).split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new Error(`${path}:${i + 1}: not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`${path}:${i + 1}: expected a JSON object`);
    }
    rows.push({ line: i + 1, value: value as Record<string, unknown> });
  });
  return rows;
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
