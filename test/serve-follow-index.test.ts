/**
 * A server over an index follows its writers (issue 16, item 3): `rankwise index add` and `index delete` run while
 * `serve --index` is up are seen by the next /search, and the semantic cache never answers with results computed on
 * an older version of the index (a deleted document). Real LanceDB folder, real CLI processes, real server, real
 * SQLite cache.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LanceDbRetriever } from '../src/retrieve/lancedb.js';
import { createServer, type RunningServer } from '../src/serve/server.js';
import { ok } from './helpers/cli.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

let server: RunningServer;
let dir: string;
let work: string;

interface Hit {
  id: string;
}

async function search(query: string): Promise<{ ids: string[]; hit: boolean }> {
  const response = await fetch(`${server.url}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, k: 5 }) });
  assert.equal(response.status, 200, await response.clone().text());
  const body = (await response.json()) as { results: Hit[]; cache: { hit: boolean } };
  return { ids: body.results.map((r) => r.id), hit: body.cache.hit };
}

before(async () => {
  work = await scratchDir();
  dir = join(work, 'idx');
  const retriever = await LanceDbRetriever.open(dir);
  await retriever.add([
    { id: 'owl', text: 'Owls hunt mice at night in quiet barns' },
    { id: 'bat', text: 'Bats find insects by listening to echoes' },
  ]);
  await retriever.close();
  const crossDir = await fixtureModel({ kind: 'cross-encoder', seed: 3 });
  server = await createServer({ model: crossDir, port: 0, threads: 1, index: dir, cache: join(work, 'cache.db') });
});

after(async () => {
  await server?.close();
});

describe('serve --index follows the index', { timeout: 300_000 }, () => {
  it('sees documents added and deleted by other processes, and the cache never serves a stale answer', async () => {
    const first = await search('owls hunting mice at night');
    assert.deepEqual(first, { ids: ['owl'], hit: false });
    assert.deepEqual(await search('owls hunting mice at night'), { ids: ['owl'], hit: true }, 'an unchanged index answers from the cache');

    const more = join(work, 'more.jsonl');
    await writeFile(more, `${JSON.stringify({ id: 'barn-owl', text: 'Barn owls hunt mice at night over fields' })}\n`);
    await ok('index', 'add', '--index', dir, '--docs', more, '--model', 'none');
    const added = await search('owls hunting mice at night');
    assert.equal(added.hit, false, 'the cached answer predates the add');
    assert.deepEqual(added.ids.sort(), ['barn-owl', 'owl']);
    // The fixture cross-encoder's order is arbitrary; what matters is what the first stage found.
    assert.ok((await search('barn owls over fields')).ids.includes('barn-owl'));

    await ok('index', 'delete', '--index', dir, '--ids', 'owl');
    const deleted = await search('owls hunting mice at night');
    assert.equal(deleted.hit, false, 'the cached answer predates the delete');
    assert.deepEqual(deleted.ids, ['barn-owl'], 'the deleted document is gone, from the index and from the cache');
    assert.deepEqual(await search('owls hunting mice at night'), { ids: ['barn-owl'], hit: true });
  });

  it('a text index created empty gains its full-text index from a later writer', async () => {
    const emptyDir = join(work, 'empty');
    await (await LanceDbRetriever.open(emptyDir)).close();
    const crossDir = await fixtureModel({ kind: 'cross-encoder', seed: 3 });
    const other = await createServer({ model: crossDir, port: 0, threads: 1, index: emptyDir });
    try {
      const query = async () => {
        const response = await fetch(`${other.url}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'echoes' }) });
        return ((await response.json()) as { results: Hit[] }).results.map((r) => r.id);
      };
      assert.deepEqual(await query(), []);
      const docs = join(work, 'bats.jsonl');
      await writeFile(docs, `${JSON.stringify({ id: 'bat', text: 'Bats find insects by listening to echoes' })}\n`);
      await ok('index', 'add', '--index', emptyDir, '--docs', docs, '--model', 'none');
      assert.deepEqual(await query(), ['bat']);
    } finally {
      await other.close();
    }
  });
});
