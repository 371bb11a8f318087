import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCorpus } from '../src/retrieve/corpus.js';
import { scratchDir } from './helpers/fixtures.js';

async function corpusFile(lines: string[]): Promise<string> {
  const file = join(await scratchDir(), 'docs.jsonl');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

test('readCorpus keeps id and text, turns numeric ids into strings and moves every other field into metadata', { timeout: 30_000 }, async () => {
  const file = await corpusFile([
    '{"id":"d1","text":"Owls hunt at night","tier":"gold","title":"Owls"}',
    '',
    '{"id":7,"text":"Bats use echoes to find insects"}',
    '{"id":"d3","text":"Moths circle lamps","tier":null}',
  ]);
  assert.deepEqual(await readCorpus(file), [
    { id: 'd1', text: 'Owls hunt at night', metadata: { tier: 'gold', title: 'Owls' } },
    { id: '7', text: 'Bats use echoes to find insects' },
    { id: 'd3', text: 'Moths circle lamps', metadata: { tier: null } },
  ]);
});

test('readCorpus names file, line and field for bad lines', { timeout: 30_000 }, async () => {
  const cases: Array<[string, RegExp]> = [
    ['{"text":"no id"}', /docs\.jsonl:2: "id": expected a string or a number, got nothing/],
    ['{"id":["x"],"text":"t"}', /docs\.jsonl:2: "id": expected a string or a number, got \["x"\]/],
    ['{"id":"x","text":"   "}', /docs\.jsonl:2: "text": expected a non-empty string, got "   "/],
    ['{"id":"x","text":5}', /docs\.jsonl:2: "text": expected a non-empty string, got 5/],
    ['{"id":"x","text":"t","tier":{"a":1}}', /docs\.jsonl:2: "tier": expected a string or a number, got \{"a":1\}/],
    ['{"id":"ok","text":"again"}', /docs\.jsonl:2: "id": "ok" already used on line 1/],
    ['{"id":"x",', /docs\.jsonl:2: not valid JSON/],
  ];
  for (const [line, message] of cases) {
    const file = await corpusFile(['{"id":"ok","text":"fine"}', line]);
    await assert.rejects(readCorpus(file), message, line);
  }
  await assert.rejects(readCorpus(await corpusFile([''])), /no documents in it/);
  await assert.rejects(readCorpus('/nonexistent/docs.jsonl'), /no such file/);
});
