/**
 * JSON Lines files (training sets, pairs, corpora, --docs) are read by one streaming reader: line by line through
 * node:readline, `.gz` through zlib, never as one string. Files of several MB, plain and gzipped, with a bad line:
 * the error is an InputError naming the file and the line.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { InputError } from '../src/errors.js';
import { jsonLinesSize, readJsonLines, streamJsonLines } from '../src/util/jsonl.js';
import { rankwise } from './helpers/cli.js';
import { scratchDir } from './helpers/fixtures.js';

const ROWS = 40_000;
/** Line n (1-based) of the big file: ~150 bytes of JSON, every 1000th line blank, CRLF on odd lines. */
function bigFile(badLine?: number): string {
  let out = '';
  for (let n = 1; n <= ROWS; n++) {
    const text = n === badLine ? '{"query": "q", "document": oops}' : n % 1000 === 0 ? '' : JSON.stringify({ query: `query ${n}`, document: `document ${n} ${'lorem ipsum '.repeat(8)}`, label: n % 2 });
    out += text + (n % 2 ? '\r\n' : '\n');
  }
  return out;
}

let dir: string;
let good: string;
let goodGz: string;
let bad: string;
let badGz: string;
const BAD_LINE = 38_761;

before(async () => {
  dir = await scratchDir();
  good = join(dir, 'train.jsonl');
  goodGz = join(dir, 'train.jsonl.gz');
  bad = join(dir, 'bad.jsonl');
  badGz = join(dir, 'bad.jsonl.gz');
  const text = bigFile();
  const broken = bigFile(BAD_LINE);
  await writeFile(good, text);
  await writeFile(goodGz, gzipSync(text));
  await writeFile(bad, broken);
  await writeFile(badGz, gzipSync(broken));
});

describe('JSON Lines, streamed', { timeout: 120_000 }, () => {
  it('reads a file of several MB, plain or .gz, with every line number right', async () => {
    assert.ok((await jsonLinesSize(good)) > 5_000_000, 'the test file is over 5 MB');
    for (const file of [good, goodGz]) {
      const rows = await readJsonLines(file, '--train');
      assert.equal(rows.length, ROWS - ROWS / 1000, file);
      for (const { line, value } of rows) {
        assert.equal(value.query, `query ${line}`, `${file}:${line}`);
        assert.equal(value.label, line % 2);
      }
    }
  });

  it('yields the first lines before the file has been read, and reports bytes read', async () => {
    const size = await jsonLinesSize(good);
    let read = 0;
    let readAtFirst = -1;
    let count = 0;
    for await (const { line } of streamJsonLines(good, '--train', (bytes) => (read = bytes))) {
      if (line === 1) readAtFirst = read;
      count++;
    }
    assert.ok(readAtFirst > 0 && readAtFirst < size / 10, `first line came after ${readAtFirst} of ${size} bytes`);
    assert.equal(read, size);
    assert.equal(count, ROWS - ROWS / 1000);
  });

  it('a bad line is an InputError naming the file and the line, plain or .gz', async () => {
    for (const file of [bad, badGz]) {
      await assert.rejects(readJsonLines(file, '--train'), (error: unknown) => {
        assert.ok(error instanceof InputError, String(error));
        assert.ok(error.message.startsWith(`${file}:${BAD_LINE}: not valid JSON (`), error.message);
        return true;
      });
    }
    const array = join(dir, 'array.jsonl');
    await writeFile(array, '{"a":1}\n\n[1,2]\n');
    await assert.rejects(readJsonLines(array, '--pairs'), { name: 'InputError', message: `${array}:3: expected a JSON object` });
  });

  it('a missing file or a corrupt .gz is an InputError naming the option and the file', async () => {
    await assert.rejects(readJsonLines(join(dir, 'absent.jsonl'), '--train'), { name: 'InputError', message: `--train ${join(dir, 'absent.jsonl')}: no such file` });
    const corrupt = join(dir, 'corrupt.jsonl.gz');
    await writeFile(corrupt, gzipSync(bigFile()).subarray(0, 200_000));
    await assert.rejects(readJsonLines(corrupt, '--train'), (error: unknown) => {
      assert.ok(error instanceof InputError, String(error));
      assert.ok(error.message.startsWith(`--train ${corrupt}: `), error.message);
      assert.match(error.message, /\(after line \d+\)$/);
      return true;
    });
  });

  it('rankwise train stops on the bad line of a large training file, naming file and line, with exit code 2', async () => {
    const out = await rankwise('train', 'cross-encoder', '--base', join(dir, 'no-model'), '--train', bad, '--out', join(dir, 'out'));
    assert.equal(out.code, 2, out.stderr);
    assert.ok(out.stderr.includes(`${bad}:${BAD_LINE}: not valid JSON`), out.stderr);
  });
});
