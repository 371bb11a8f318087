import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

/** A text file's content; a name ending in `.gz` is gunzipped (data sets ship compressed). */
export async function readText(path: string, what: string): Promise<string> {
  try {
    const bytes = await readFile(path);
    return (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

/** One parsed line and its 1-based number in the file, for error messages. */
export interface JsonLine {
  line: number;
  value: Record<string, unknown>;
}

/** Parses JSON Lines; blank lines are skipped, a malformed line is an error that names file and line number. */
export async function readJsonLines(path: string, what: string): Promise<JsonLine[]> {
  const rows: JsonLine[] = [];
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
