import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ok, rankwise } from './helpers/cli.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

const DOCS = [
  { id: 'owl', text: 'Owls hunt mice at night in quiet barns', tier: 'gold' },
  { id: 'bat', text: 'Bats find insects by listening to echoes' },
  { id: 'mole', text: 'Moles dig tunnels under the lawn', source: 'garden' },
];

let docsFile: string;
let model: string;
before(async () => {
  docsFile = join(await scratchDir(), 'docs.jsonl');
  await writeFile(docsFile, DOCS.map((d) => JSON.stringify(d)).join('\n'));
  model = await fixtureModel({ kind: 'bi-encoder', seed: 2, hidden: 32, heads: 2, intermediate: 64 });
});

test('index add / search / delete / stats round trip on a text-only index', { timeout: 300_000 }, async () => {
  const dir = join(await scratchDir(), 'idx');
  const added = JSON.parse(await ok('index', 'add', '--index', dir, '--docs', docsFile, '--model', 'none', '--json'));
  assert.deepEqual({ ...added, seconds: typeof added.seconds }, { added: 3, count: 3, model: null, seconds: 'number' });
  const found = JSON.parse(await ok('index', 'search', '--index', dir, '--query', 'owls hunting at night', '--json'));
  assert.equal(found.mode, 'text', 'a text-only index searches by text by default');
  assert.deepEqual(found.results.map((r: { id: string }) => r.id), ['owl']);
  assert.deepEqual(found.results[0].metadata, { tier: 'gold' });
  assert.ok(found.results[0].score > 0);
  const searched = await rankwise('index', 'search', '--index', dir, '--query', 'tunnels');
  assert.equal(searched.code, 0);
  assert.equal(searched.stderr, '', "LanceDB's Rust warnings stay out of the output");
  const table = searched.stdout;
  assert.match(table, /^rank\s+id\s+bm25\s+text\n/);
  assert.match(table, /\n\s+1\s+mole\s+\d+\.\d{4}\s+Moles dig tunnels under the lawn\n$/);
  assert.match(await ok('index', 'delete', '--index', dir, '--ids', 'bat,ghost'), /Deleted 1 of 2 ids .* now holds 2/);
  const stats = JSON.parse(await ok('index', 'stats', '--index', dir, '--json'));
  assert.deepEqual({ ...stats, createdAt: typeof stats.createdAt }, { table: 'documents', documents: 2, model: null, dimension: null, modes: ['text'], createdAt: 'string' });
  const vector = await rankwise('index', 'search', '--index', dir, '--query', 'owls', '--mode', 'vector');
  assert.equal(vector.code, 2);
  assert.match(vector.stderr, /mode: vector is not supported here \(supported: text\)/);
});

test('an index built with a model keeps it: search embeds with it, and a different --model is refused', { timeout: 300_000 }, async () => {
  const dir = join(await scratchDir(), 'idx');
  await ok('index', 'add', '--index', dir, '--docs', docsFile, '--model', model);
  const hybrid = JSON.parse(await ok('index', 'search', '--index', dir, '--query', 'bats and echoes', '--k', '3', '--json'));
  assert.equal(hybrid.mode, 'hybrid');
  assert.equal(hybrid.results.length, 3, 'the vector list brings in documents without shared words');
  assert.equal(hybrid.results[0].id, 'bat');
  // Only "bat" matches lexically, so its RRF score is 1/61 (text rank 1) plus 1/(60 + its vector rank).
  const vectorRank = 1 / (hybrid.results[0].score - 1 / 61) - 60;
  assert.ok([1, 2, 3].some((r) => Math.abs(vectorRank - r) < 1e-6), `vector rank ${vectorRank}`);
  for (const hit of hybrid.results.slice(1)) assert.ok(hit.score < 1 / 60 && hit.score > 1 / 64, 'vector-only hits score 1/(60 + rank)');
  const none = await rankwise('index', 'add', '--index', dir, '--docs', docsFile, '--model', 'none');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--model none: the index at .* was built with model .*bi-encoder; leave out --model/);
  const other = await rankwise('index', 'add', '--index', dir, '--docs', docsFile, '--model', 'use-lite');
  assert.equal(other.code, 2);
  assert.match(other.stderr, /built with encoder .*bi-encoder \(32-d\); cannot open it with encoder use-lite \(512-d\)/);
});

test('bad input: JSONL errors name file, line and field; missing index and bad options are clear', { timeout: 300_000 }, async () => {
  const bad = join(await scratchDir(), 'bad.jsonl');
  await writeFile(bad, '{"id":"a","text":"fine"}\n{"id":"b"}\n');
  const dir = join(await scratchDir(), 'idx');
  const out = await rankwise('index', 'add', '--index', dir, '--docs', bad, '--model', 'none');
  assert.equal(out.code, 2);
  assert.match(out.stderr, /bad\.jsonl:2: "text": expected a non-empty string, got nothing/);
  const missing = await rankwise('index', 'stats', '--index', dir);
  assert.match(missing.stderr, /--index .*idx: no rankwise index \(table "documents"\) there/);
  const ids = await rankwise('index', 'delete', '--index', dir, '--ids', 'a,,b');
  assert.match(ids.stderr, /--ids expects comma-separated non-empty ids, got "a,,b"/);
});
