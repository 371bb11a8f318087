/**
 * TTL and LRU on the real clock (no injected `now`): short durations and real sleeps. The other cache tests move an
 * injected clock; these check that the defaults (Date.now) give the same behaviour in real time.
 *
 * A lookup reads the clock once, somewhere between its start and its end, so a "before the TTL" check is only
 * decided when the whole lookup ended before the earliest possible expiry. On a machine too loaded for that, the TTL
 * is retried longer (300 ms, then 1.2 s, then 4.8 s) instead of asserting something undecided.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { SemanticCache } from '../src/cache/semantic-cache.js';
import { SqliteCacheStore } from '../src/cache/sqlite-store.js';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import type { SentenceEncoder } from '../src/models/sentence-encoder.js';
import { scratchDir } from './helpers/fixtures.js';

let encoder: SentenceEncoder;
before(async () => {
  encoder = await loadSentenceEncoder('use-lite');
});
after(async () => {
  await encoder?.dispose?.();
});

async function openCache(options: { ttlMs?: number; maxEntries?: number }) {
  return SemanticCache.open({ encoder, store: await SqliteCacheStore.open(join(await scratchDir(), 'cache.db')), ...options });
}

async function timedLookup(cache: SemanticCache, query: string) {
  const start = Date.now();
  const result = await cache.lookup(query);
  return { hit: result.hit, value: result.value, start, end: Date.now() };
}

describe('semantic cache TTL and LRU on the real clock (SQLite)', { timeout: 15_000 }, () => {
  it('serves a hit before the TTL and a miss after sleeping past it', async (t) => {
    for (const ttlMs of [300, 1200, 4800]) {
      const cache = await openCache({ ttlMs });
      try {
        const t0 = Date.now();
        await cache.store('How do I reset my password?', 'Use the link on the sign-in page.');
        const t1 = Date.now();
        // The entry expires at (its store's clock reading) + ttlMs, somewhere in [t0 + ttlMs, t1 + ttlMs].
        const early = await timedLookup(cache, 'How can I reset my password?');
        if (early.end >= t0 + ttlMs) {
          t.diagnostic(`the lookup ended ${early.end - t0} ms after the store: undecided with ttl ${ttlMs} ms, retrying longer`);
          continue;
        }
        assert.equal(early.hit, true, 'before the TTL');
        assert.equal(early.value, 'Use the link on the sign-in page.');
        assert.equal((await cache.stats()).entries, 1);

        await sleep(t1 + ttlMs + 20 - Date.now());
        const late = await timedLookup(cache, 'How can I reset my password?');
        assert.ok(late.start >= t1 + ttlMs);
        assert.equal(late.hit, false, 'after the TTL');
        assert.equal((await cache.stats()).entries, 0, 'counts skip the expired entry');
        await cache.store('How do I bake bread?', 'flour, water, salt, yeast'); // a write purges what has expired
        const stats = await cache.stats();
        assert.deepEqual([stats.entries, stats.expirations, stats.hits, stats.misses], [1, 1, 1, 1]);
        return;
      } finally {
        await cache.close();
      }
    }
    assert.fail('every lookup took longer than the TTL, even 4.8 s');
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = await openCache({ maxEntries: 3 });
    try {
      // Real timestamps are milliseconds: the pauses make every store and use a distinct, later time.
      for (const q of ['How do I reset my password?', 'Where can I download my invoices?', 'How do I bake bread?']) {
        await cache.store(q, q);
        await sleep(15);
      }
      assert.equal((await cache.lookup('How can I reset my password?')).hit, true, 'the oldest entry is now the most recently used');
      await sleep(15);
      await cache.store('Who wrote Hamlet?', 'Shakespeare');
      const stats = await cache.stats();
      assert.deepEqual([stats.entries, stats.evictions], [3, 1]);
      assert.equal((await cache.lookup('Where can I download my invoices?')).hit, false, 'the least recently used went');
      assert.equal((await cache.lookup('How can I reset my password?')).hit, true, 'the one used recently stayed');
      assert.equal((await cache.lookup('How do I bake bread?')).hit, true);
      assert.equal((await cache.lookup('Who wrote Hamlet?')).value, 'Shakespeare');
    } finally {
      await cache.close();
    }
  });
});
