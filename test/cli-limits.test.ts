/**
 * Limits and small input defects of the CLI (issue 16, items 6 and 7): thread counts are bounded by the cores, a
 * UTF-8 byte order mark never reaches a document, and a docs file of any size is streamed and added in batches (a
 * 617 MB file, past V8's 512 MB string limit that the whole-file reader hit, streamed in 6.4 s at 278 MB of memory;
 * too slow for the suite, so the batching is tested here on a small file with a small --batch-size). The CLI runs as
 * a real process from source.
 */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { threadCount } from '../src/cli/options.js';
import { readDocuments } from '../src/cli/input.js';
import { readCorpus, readCorpusBatches } from '../src/retrieve/corpus.js';
import { streamJsonLines } from '../src/util/jsonl.js';
import { ok, rankwise } from './helpers/cli.js';
import { scratchDir } from './helpers/fixtures.js';

const BOM = '\uFEFF';

describe('--threads is bounded by the core count', { timeout: 120_000 }, () => {
  it('the parser refuses more threads than cores, naming the core count', () => {
    const parse = threadCount('--threads', 2);
    assert.equal(parse('1'), 1);
    assert.equal(parse('2'), 2);
    assert.throws(() => parse('3'), /--threads expects at most 2 \(the number of CPU cores available here\), got "3"/);
    assert.throws(() => parse('0'), /--threads expects a positive integer, got "0"/);
    assert.throws(() => parse('1.5'), /--threads expects a positive integer/);
  });

  for (const command of [['rerank', '--model', 'x', '--query', 'q', '--doc', 'd'], ['serve', '--model', 'x'], ['train', 'cross-encoder', '--base', 'x', '--train', 'p.jsonl', '--out', 'o']]) {
    it(`rankwise ${command[0]} --threads 999 exits 2 before loading anything`, async () => {
      const out = await rankwise(...command, '--threads', '999');
      assert.equal(out.code, 2, out.stdout);
      assert.match(out.stderr, new RegExp(`--threads expects at most ${availableParallelism()} \\(the number of CPU cores available here\\), got "999"`));
    });
  }
});

describe('a UTF-8 byte order mark is not part of the first document', { timeout: 120_000 }, () => {
  it('in .txt and .jsonl --docs files and in corpora', async () => {
    const dir = await scratchDir();
    const txt = join(dir, 'docs.txt');
    await writeFile(txt, `${BOM}first line\nsecond line\n`);
    assert.deepEqual(await readDocuments(txt), [{ text: 'first line' }, { text: 'second line' }]);
    const jsonl = join(dir, 'docs.jsonl');
    await writeFile(jsonl, `${BOM}{"id":"a","text":"alpha"}\n{"id":"b","text":"beta"}\n`);
    assert.deepEqual(await readDocuments(jsonl), [{ id: 'a', text: 'alpha' }, { id: 'b', text: 'beta' }]);
    assert.deepEqual(await readCorpus(jsonl), [{ id: 'a', text: 'alpha' }, { id: 'b', text: 'beta' }]);
  });

  it('index add reads a corpus that starts with a BOM', async () => {
    const dir = await scratchDir();
    const jsonl = join(dir, 'docs.jsonl');
    await writeFile(jsonl, `${BOM}{"id":"a","text":"alpha owls"}\n{"id":"b","text":"beta bats"}\n`);
    const added = JSON.parse(await ok('index', 'add', '--index', join(dir, 'idx'), '--docs', jsonl, '--model', 'none', '--json'));
    assert.equal(added.count, 2);
    const found = JSON.parse(await ok('index', 'search', '--index', join(dir, 'idx'), '--query', 'alpha', '--json'));
    assert.deepEqual(found.results.map((r: { id: string; text: string }) => [r.id, r.text]), [['a', 'alpha owls']]);
  });
});

describe('docs files are streamed and added in batches', { timeout: 300_000 }, () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ id: `d${i}`, text: `document number ${i} about topic ${i % 7}` }));

  it('streamJsonLines: lines one at a time, a BOM dropped, .gz read, errors naming file and line', async () => {
    const dir = await scratchDir();
    const plain = join(dir, 'a.jsonl');
    await writeFile(plain, `${BOM}{"id":"x","text":"one"}\n\n{"id":"y","text":"two"}\r\n`);
    const read = async (path: string) => {
      const out: Array<[number, unknown]> = [];
      for await (const { line, value } of streamJsonLines(path, '--docs')) out.push([line, value.id]);
      return out;
    };
    assert.deepEqual(await read(plain), [[1, 'x'], [3, 'y']]);
    const gz = join(dir, 'a.jsonl.gz');
    await writeFile(gz, gzipSync(`${BOM}{"id":"x","text":"one"}\n{"id":"y","text":"two"}\n`));
    assert.deepEqual(await read(gz), [[1, 'x'], [2, 'y']]);
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"id":"x","text":"one"}\n{"id": oops}\n');
    await assert.rejects(read(bad), new RegExp(`^InputError: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: not valid JSON`));
    await assert.rejects(read(join(dir, 'missing.jsonl')), /--docs .*missing\.jsonl: no such file/);
  });

  it('readCorpusBatches: batches of the given size, after checking the whole file', async () => {
    const file = join(await scratchDir(), 'c.jsonl');
    await writeFile(file, `${lines(25).join('\n')}\n`);
    let checked = 0;
    const sizes: number[] = [];
    for await (const batch of readCorpusBatches(file, 10, { onChecked: (n) => (checked = n) })) sizes.push(batch.length);
    assert.deepEqual(sizes, [10, 10, 5]);
    assert.equal(checked, 25);
    await writeFile(file, `${[...lines(25), JSON.stringify({ id: 'd3', text: 'again' })].join('\n')}\n`);
    const batches = readCorpusBatches(file, 10);
    await assert.rejects(batches.next(), /c\.jsonl:26: "id": "d3" already used on line 4/, 'a duplicate near the end fails before the first batch');
  });

  it('index add --batch-size adds a larger file in several writes', async () => {
    const dir = await scratchDir();
    const docs = join(dir, 'docs.jsonl');
    await writeFile(docs, `${lines(2500).join('\n')}\n`);
    const added = JSON.parse(await ok('index', 'add', '--index', join(dir, 'idx'), '--docs', docs, '--model', 'none', '--batch-size', '1000', '--json'));
    assert.deepEqual([added.added, added.count], [2500, 2500]);
    const found = JSON.parse(await ok('index', 'search', '--index', join(dir, 'idx'), '--query', 'number 2499', '--k', '1', '--json'));
    assert.equal(found.results[0].id, 'd2499');
  });

  it('index add with a bad last line writes nothing, and says which line', async () => {
    const dir = await scratchDir();
    const docs = join(dir, 'docs.jsonl');
    await writeFile(docs, `${[...lines(2500), '{"id": "late", "text": ""}'].join('\n')}\n`);
    const out = await rankwise('index', 'add', '--index', join(dir, 'idx'), '--docs', docs, '--model', 'none', '--batch-size', '1000');
    assert.equal(out.code, 2);
    assert.match(out.stderr, /docs\.jsonl:2501: "text": expected a non-empty string, got ""/);
    assert.deepEqual(await readdir(dir), ['docs.jsonl'], 'no index folder was created');
  });
});

describe('rerank --docs is streamed and held to a limit', { timeout: 120_000 }, () => {
  it('readDocuments stops reading at the limit instead of reading the whole file, and names file and limit', async () => {
    const dir = await scratchDir();
    for (const name of ['many.txt', 'many.jsonl']) {
      const path = join(dir, name);
      const line = (i: number) => (name.endsWith('.txt') ? `document ${i} ${'x'.repeat(200)}` : JSON.stringify({ id: `d${i}`, text: `document ${i} ${'x'.repeat(200)}` }));
      await writeFile(path, Array.from({ length: 40_000 }, (_, i) => line(i)).join('\n'));
      let read = 0;
      await assert.rejects(
        readDocuments(path, { maxDocuments: 100, onBytes: (bytes) => (read = bytes) }),
        new RegExp(`--docs ${path.replaceAll('.', '\\.')}: more than 100 documents; .*raise --max-docs`),
      );
      const size = (await stat(path)).size;
      assert.ok(read > 0 && read < size / 4, `${name}: read ${read} of ${size} bytes before stopping`);
      assert.equal((await readDocuments(path, { maxDocuments: 40_000 })).length, 40_000);
    }
  });

  it('rankwise rerank --max-docs: a larger file exits 2 before a model loads', async () => {
    const dir = await scratchDir();
    const docs = join(dir, 'docs.txt');
    await writeFile(docs, 'one\ntwo\nthree\nfour\n');
    const out = await rankwise('rerank', '--model', join(dir, 'no-such-model'), '--query', 'q', '--docs', docs, '--max-docs', '3');
    assert.equal(out.code, 2, out.stdout);
    assert.match(out.stderr, /--docs .*docs\.txt: more than 3 documents/);
  });
});
