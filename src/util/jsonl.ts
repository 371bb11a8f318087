import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip, gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';

/**
 * A text file's content; a name ending in `.gz` is gunzipped (data sets ship compressed). A UTF-8 byte order mark
 * (Windows editors write one) is dropped: it would otherwise be the first character of the first document, or make
 * the first JSON line invalid.
 */
export async function readText(path: string, what: string): Promise<string> {
  try {
    const bytes = await readFile(path);
    const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (error) {
    throw unreadable(what, path, error);
  }
}

/** One parsed line and its 1-based number in the file, for error messages. */
/** A file that cannot be opened, named with the flag or role it came from (`--train data.jsonl: no such file`). */
function unreadable(what: string, path: string, error: unknown): InputError {
  const code = (error as NodeJS.ErrnoException).code;
  return new InputError(`${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, { cause: error });
}

export interface JsonLine {
  line: number;
  value: Record<string, unknown>;
}

/**
 * JSON Lines, every line parsed (see streamJsonLines): blank lines are skipped, a malformed line is an error that names
 * file and line number. The file is streamed, never held as one string, so a training set larger than V8's string
 * limit (about 512 MB, less once gunzipped) reads as well as a small one.
 */
export async function readJsonLines(path: string, what: string): Promise<JsonLine[]> {
  const rows: JsonLine[] = [];
  for await (const row of streamJsonLines(path, what)) rows.push(row);
  return rows;
}

/**
 * A text file read as a stream, one line at a time (`\r\n` or `\n`), with its 1-based number: for files too large to
 * hold as one string (V8 caps a string at about 512 MB) or worth reporting progress on. A BOM is dropped as readText
 * does; `onBytes` gets the bytes read from the file so far (compressed bytes for `.gz`), against jsonLinesSize.
 */
export async function* streamTextLines(path: string, what: string, onBytes?: (bytes: number) => void): AsyncGenerator<{ line: number; raw: string }> {
  const file = createReadStream(path);
  const opened = new Promise<void>((resolve, reject) => {
    file.once('open', () => resolve());
    file.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    throw unreadable(what, path, error);
  }
  if (onBytes) file.on('data', () => onBytes(file.bytesRead));
  const text = path.endsWith('.gz') ? file.pipe(createGunzip()) : file;
  const lines = createInterface({ input: text, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const raw of lines) {
      number++;
      yield { line: number, raw: number === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw };
    }
  } catch (error) {
    if ((error as Error).message.startsWith(`${path}:`)) throw error;
    // A corrupt .gz or a read error part-way: say how far the file was read.
    throw new InputError(`${what} ${path}: ${(error as Error).message} (after line ${number})`, { cause: error });
  } finally {
    lines.close();
    file.destroy();
  }
}

/** JSON Lines read as a stream (see streamTextLines), one parsed line at a time; blank lines skipped, a malformed line an error naming file and line. */
export async function* streamJsonLines(path: string, what: string, onBytes?: (bytes: number) => void): AsyncGenerator<JsonLine> {
  for await (const { line, raw } of streamTextLines(path, what, onBytes)) {
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new InputError(`${path}:${line}: not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(`${path}:${line}: expected a JSON object`);
    yield { line, value: value as Record<string, unknown> };
  }
}

/** The size in bytes streamJsonLines reports progress against. */
export async function jsonLinesSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
