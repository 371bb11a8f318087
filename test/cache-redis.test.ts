import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { RedisCacheStore } from '../src/cache/redis-store.js';
import { SemanticCache } from '../src/cache/semantic-cache.js';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import type { SentenceEncoder } from '../src/models/sentence-encoder.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

let encoder: SentenceEncoder;
let redis: RedisServer;
before(async () => {
  [encoder, redis] = await Promise.all([loadSentenceEncoder('use-lite'), startRedis()]);
});
after(async () => {
  await encoder?.dispose?.();
  await redis?.process.stop();
});

/**
 * Two replicas of one service: separate connections, separate in-process indexes, and each its own clock, as on two
 * machines: a test clock per replica that the test moves (b's runs 250 ms ahead of a's), or with `clocks` the real
 * clock read by each replica separately.
 */
async function twoReplicas(prefix: string, options: { ttlMs?: number; maxEntries?: number; clocks?: { a: () => number; b: () => number } } = {}) {
  const clocks = { a: { now: 5_000_000 }, b: { now: 5_000_250 } };
  const open = async (now: () => number) =>
    SemanticCache.open({ encoder, store: await RedisCacheStore.connect(redis.url, { prefix }), now, ttlMs: options.ttlMs, maxEntries: options.maxEntries });
  const [a, b] = [await open(options.clocks?.a ?? (() => clocks.a.now)), await open(options.clocks?.b ?? (() => clocks.b.now))];
  after(async () => {
    await a.close();
    await b.close();
  });
  /** Moves both replicas' test clocks on. */
  const tick = (ms: number) => {
    clocks.a.now += ms;
    clocks.b.now += ms;
  };
  return { a, b, tick };
}

async function timedLookup(cache: SemanticCache, query: string) {
  const start = Date.now();
  const result = await cache.lookup(query);
  return { hit: result.hit, start, end: Date.now() };
}

describe('semantic cache on Redis, shared by replicas', { timeout: 15_000 }, () => {
  it('a second replica sees entries the first wrote, vectors included', async () => {
    const { a, b } = await twoReplicas('t1');
    await a.store('How do I enable two-factor login?', { steps: ['Settings', 'Security', 'Enable'] });
    await a.store('Cheapest flights from London to Paris next week', { fare: 49 });
    assert.equal(b.indexedEntries, 0, 'b has not looked yet');
    const hit = await b.lookup('How can I turn on two-factor login?');
    assert.equal(hit.hit, true);
    assert.deepEqual(hit.value, { steps: ['Settings', 'Security', 'Enable'] });
    assert.equal(b.indexedEntries, 2, 'b tailed both entries into its own index');
    assert.equal((await b.lookup('How do I disable two-factor login?')).hit, false);
    assert.equal((await b.lookup('Cheapest flights from Paris to London next week')).hit, false);
    // And back: what b stores, a finds.
    await b.store('Where can I download my invoices?', 'Billing > Invoices');
    assert.equal((await a.lookup('Where can I download my invoices?')).value, 'Billing > Invoices');
    const stats = await a.stats();
    assert.deepEqual([stats.entries, stats.hits, stats.misses, stats.stores], [3, 2, 2, 3], 'counters are shared');
  });

  it('TTL expiry is visible to both, each on its own real clock', async (t) => {
    // b's clock runs 40 ms ahead of a's: each replica judges expiry by its own clock, with the expiry time a wrote.
    const skew = 40;
    const clocks = { a: () => Date.now(), b: () => Date.now() + skew };
    // Retried with a longer TTL when the machine is too loaded to look up twice before the shortest one ends.
    for (const [attempt, ttlMs] of [300, 1200, 4800].entries()) {
      const { a, b } = await twoReplicas(`t2-${attempt}`, { ttlMs, clocks });
      const t0 = Date.now();
      await a.store('How do I reset my password?', 'reset link');
      const t1 = Date.now();
      // Expires at a's clock reading during the store + ttlMs: in [t0 + ttlMs, t1 + ttlMs] real time, and b sees that
      // moment `skew` ms early.
      const fromA = await timedLookup(a, 'How do I reset my password?');
      const fromB = await timedLookup(b, 'How do I reset my password?');
      if (fromB.end + skew >= t0 + ttlMs) {
        t.diagnostic(`two lookups took ${fromB.end - t0} ms: undecided with ttl ${ttlMs} ms, retrying longer`);
        continue;
      }
      assert.deepEqual([fromA.hit, fromB.hit], [true, true], 'both see the entry before its TTL');

      await sleep(t1 + ttlMs + 20 - Date.now());
      assert.equal((await a.lookup('How do I reset my password?')).hit, false, 'a sees it expired');
      assert.equal((await b.lookup('How do I reset my password?')).hit, false, 'b sees it expired');
      await b.store('How do I bake bread?', 'flour, water, salt, yeast'); // b's write purges it from Redis
      const stats = await a.stats();
      assert.deepEqual([stats.expirations, stats.entries, stats.hits, stats.misses], [1, 1, 2, 2]);
      return;
    }
    assert.fail('every pair of lookups took longer than the TTL, even 4.8 s');
  });

  it('LRU eviction by one replica is visible to the other', async () => {
    const { a, b, tick } = await twoReplicas('t3', { maxEntries: 2 });
    await a.store('How do I reset my password?', 'A');
    tick(1000);
    await a.store('Where can I download my invoices?', 'B');
    tick(1000);
    assert.equal((await b.lookup('How do I reset my password?')).hit, true, 'b uses A (by its own clock): now B is least recently used');
    tick(1000);
    await b.store('How do I bake bread?', 'C');
    assert.equal((await a.lookup('Where can I download my invoices?')).hit, false, 'a had B indexed, but it is gone');
    assert.equal((await a.lookup('How do I reset my password?')).value, 'A');
    assert.equal((await a.lookup('How do I bake bread?')).value, 'C');
    const stats = await b.stats();
    assert.deepEqual([stats.entries, stats.evictions], [2, 1]);
  });

  it('invalidation by key and of everything reaches the other replica', async () => {
    const { a, b } = await twoReplicas('t4');
    await a.store('How do I reset my password?', 'A', { key: 'faq:password' });
    await a.store('Where can I download my invoices?', 'B');
    assert.equal((await b.lookup('How do I reset my password?')).hit, true);
    assert.equal(await a.invalidate('faq:password'), 1);
    assert.equal((await b.lookup('How do I reset my password?')).hit, false);
    assert.equal(await b.invalidateAll(), 1);
    assert.equal((await a.lookup('Where can I download my invoices?')).hit, false);
    assert.equal((await a.stats()).entries, 0);
  });

  it('a replica that starts later rebuilds its index from Redis', async () => {
    const { a } = await twoReplicas('t5');
    for (const q of ['How do I reset my password?', 'Where can I download my invoices?', 'How do I bake bread?']) await a.store(q, q.length);
    const late = await SemanticCache.open({ encoder, store: await RedisCacheStore.connect(redis.url, { prefix: 't5' }) });
    assert.equal(late.indexedEntries, 3);
    assert.equal((await late.lookup('How do I bake bread?')).value, 'How do I bake bread?'.length);
    await late.close();
    // Another prefix is another cache.
    const other = await SemanticCache.open({ encoder, store: await RedisCacheStore.connect(redis.url, { prefix: 't5-other' }) });
    assert.equal(other.indexedEntries, 0);
    await other.close();
  });

  it('names the server it cannot reach', async () => {
    await assert.rejects(RedisCacheStore.connect('redis://127.0.0.1:1'), /redis redis:\/\/127\.0\.0\.1:1: cannot connect/);
  });
});
