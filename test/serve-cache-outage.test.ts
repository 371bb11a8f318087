/**
 * The semantic cache only saves work: while its Redis is down, /search still answers (without the cache), and once
 * Redis is back the cache is used again. Found by `npm run bench:soak`, where a Redis restart made in-flight searches
 * fail with 500. Real Redis, real LanceDB index, real server.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LanceDbRetriever } from '../src/retrieve/lancedb.js';
import { createServer, type RunningServer } from '../src/serve/server.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

let server: RunningServer;
let redis: RedisServer;

async function search(query: string): Promise<{ ids: string[]; hit: boolean }> {
  const response = await fetch(`${server.url}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, k: 5 }) });
  assert.equal(response.status, 200, await response.clone().text());
  const body = (await response.json()) as { results: Array<{ id: string }>; cache: { hit: boolean } };
  return { ids: body.results.map((r) => r.id), hit: body.cache.hit };
}

before(async () => {
  const work = await scratchDir();
  const dir = join(work, 'idx');
  const retriever = await LanceDbRetriever.open(dir);
  await retriever.add([
    { id: 'owl', text: 'Owls hunt mice at night in quiet barns' },
    { id: 'bat', text: 'Bats find insects by listening to echoes' },
  ]);
  await retriever.close();
  redis = await startRedis();
  server = await createServer({ model: await fixtureModel({ kind: 'cross-encoder', seed: 3 }), port: 0, threads: 1, index: dir, cache: redis.url });
});

after(async () => {
  await server?.close();
  await redis?.process.stop();
});

describe('serve --cache redis:// through a Redis outage', { timeout: 120_000 }, () => {
  it('answers without the cache while Redis is down and uses it again once Redis is back', async () => {
    assert.deepEqual(await search('owls hunting mice at night'), { ids: ['owl'], hit: false });
    assert.deepEqual(await search('owls hunting mice at night'), { ids: ['owl'], hit: true });

    await redis.process.stop();
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await search('bats listening to echoes'), { ids: ['bat'], hit: false }, `search ${i} while Redis is down`);
    }

    // A fresh Redis on the same port: the cache is empty, so the first search is a miss and the next a hit.
    redis = await startRedis(redis.port);
    let reconnected = false;
    for (let i = 0; i < 50 && !reconnected; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await search('bats listening to echoes');
      reconnected = (await search('bats listening to echoes')).hit;
    }
    assert.ok(reconnected, 'the cache answers again after Redis is back');
  });
});
