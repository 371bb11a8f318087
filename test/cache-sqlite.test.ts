import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SemanticCache, cacheKey } from '../src/cache/semantic-cache.js';
import { SqliteCacheStore } from '../src/cache/sqlite-store.js';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import type { SentenceEncoder } from '../src/models/sentence-encoder.js';
import { scratchDir } from './helpers/fixtures.js';

let encoder: SentenceEncoder;
before(async () => {
  encoder = await loadSentenceEncoder('use-lite');
});
after(async () => {
  await encoder.dispose?.();
});

/** A cache on a fresh SQLite file with a clock the test moves. */
async function openCache(options: { path?: string; ttlMs?: number; maxEntries?: number } = {}) {
  const clock = { now: 1_000_000 };
  const path = options.path ?? join(await scratchDir(), 'cache.db');
  const cache = await SemanticCache.open({ encoder, store: await SqliteCacheStore.open(path), now: () => clock.now, ttlMs: options.ttlMs, maxEntries: options.maxEntries });
  return { cache, clock, path };
}

describe('semantic cache on SQLite', { timeout: 7_000 }, () => {
  it('answers a paraphrase with the stored value, and the opposite question not at all', async () => {
    const { cache } = await openCache();
    const value = { results: [{ id: 'doc-7', score: 0.91 }], generated: 'Open Settings, then Security.' };
    await cache.store('How do I enable two-factor login?', value);
    const paraphrase = await cache.lookup('How can I turn on two-factor login?');
    assert.equal(paraphrase.hit, true);
    assert.deepEqual(paraphrase.value, value);
    assert.equal(paraphrase.matched?.query, 'How do I enable two-factor login?');
    assert.ok(paraphrase.score! >= cache.threshold);

    const opposite = await cache.lookup('How do I disable two-factor login?');
    assert.equal(opposite.hit, false);
    assert.equal(opposite.vetoed[0]?.veto.rule, 'antonym');
    assert.ok(opposite.vetoed[0].score >= cache.threshold, 'above the threshold: only the guard stops it');
    assert.equal((await cache.lookup('What is the capital of Australia?')).hit, false);
    assert.deepEqual(
      { hits: (await cache.stats()).hits, misses: (await cache.stats()).misses, entries: (await cache.stats()).entries },
      { hits: 1, misses: 2, entries: 1 },
    );
    await cache.close();
  });

  it('keeps any JSON value and refuses what JSON cannot hold', async () => {
    const { cache } = await openCache();
    const values: unknown[] = ['plain text', 42, null, [1, 'two', { three: 3 }], { nested: { deep: [true, false] } }];
    const questions = ['Where is my parcel?', 'How tall is Mount Everest?', 'How do I bake bread?', 'Who wrote Hamlet?', 'How do I tie a tie?'];
    for (let i = 0; i < values.length; i++) await cache.store(questions[i], values[i]);
    for (let i = 0; i < values.length; i++) assert.deepEqual((await cache.lookup(questions[i])).value, values[i]);
    await assert.rejects(cache.store('What is a monad?', undefined), /value: expected a JSON value, got undefined/);
    await assert.rejects(cache.store('What is a monad?', 1n), /value: expected a JSON value/);
    await cache.close();
  });

  it('expires entries after their TTL, for lookups, counts and storage', async () => {
    const { cache, clock } = await openCache({ ttlMs: 60_000 });
    await cache.store('How do I reset my password?', 'answer A');
    await cache.store('Where can I download my invoices?', 'answer B', { ttlMs: 10 * 60_000 });
    clock.now += 59_999;
    assert.equal((await cache.lookup('How can I reset my password?')).hit, true);
    clock.now += 1;
    assert.equal((await cache.lookup('How can I reset my password?')).hit, false, 'expired at exactly ttlMs');
    assert.equal((await cache.stats()).entries, 1);
    await cache.store('How do I bake bread?', 'answer C'); // a write purges what has expired
    const stats = await cache.stats();
    assert.equal(stats.expirations, 1);
    assert.equal(stats.entries, 2);
    assert.equal((await cache.lookup('Where can I download my invoices?')).value, 'answer B', 'its own, longer TTL');
    await cache.close();
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const { cache, clock } = await openCache({ maxEntries: 3 });
    const questions = ['How do I reset my password?', 'Where can I download my invoices?', 'How do I bake bread?'];
    for (const q of questions) {
      await cache.store(q, q);
      clock.now += 1000;
    }
    assert.equal((await cache.lookup('How can I reset my password?')).hit, true); // the oldest is now the most recently used
    clock.now += 1000;
    await cache.store('Who wrote Hamlet?', 'Shakespeare');
    const stats = await cache.stats();
    assert.equal(stats.entries, 3);
    assert.equal(stats.evictions, 1);
    assert.equal((await cache.lookup('Where can I download my invoices?')).hit, false, 'the least recently used went');
    assert.equal((await cache.lookup('How can I reset my password?')).hit, true, 'the one used recently stayed');
    assert.equal(cache.indexedEntries, 3, 'the index forgot the evicted entry too');
    await cache.close();
  });

  it('invalidates by key and all, and replaces an entry stored under the same key', async () => {
    const { cache } = await openCache();
    await cache.store('How do I reset my password?', 'old answer');
    await cache.store('  how do I reset my  password?  ', 'new answer');
    assert.equal((await cache.stats()).entries, 1, 'same normalised key: replaced');
    assert.equal((await cache.lookup('How do I reset my password?')).value, 'new answer');
    await cache.store('Where can I download my invoices?', 'invoices', { key: 'billing:invoices' });
    assert.equal(await cache.invalidate(cacheKey('How do I reset my password?')), 1);
    assert.equal(await cache.invalidate('no such key'), 0);
    assert.equal((await cache.lookup('How do I reset my password?')).hit, false);
    assert.equal((await cache.lookup('Where can I download my invoices?')).hit, true);
    await cache.store('How do I bake bread?', 'bread');
    assert.equal(await cache.invalidateAll(), 2);
    assert.equal((await cache.lookup('Where can I download my invoices?')).hit, false);
    const stats = await cache.stats();
    assert.deepEqual([stats.entries, stats.invalidations], [0, 3]);
    await cache.close();
  });

  it('survives a restart: the index is rebuilt from the file', async () => {
    const first = await openCache();
    await first.cache.store('How do I reset my password?', { answer: 'Use the link on the sign-in page.' });
    await first.cache.store('Cheapest flights from London to Paris next week', { answer: 'Tuesday, 49 EUR.' });
    await first.cache.close();
    const second = await openCache({ path: first.path });
    assert.equal(second.cache.indexedEntries, 2);
    const hit = await second.cache.lookup('Budget flights from London to Paris next week?');
    assert.deepEqual(hit.value, { answer: 'Tuesday, 49 EUR.' });
    assert.equal((await second.cache.lookup('Cheapest flights from Paris to London next week')).hit, false, 'the other direction');
    await second.cache.close();
  });

  it('refuses a file filled by another encoder', async () => {
    const path = join(await scratchDir(), 'cache.db');
    const store = await SqliteCacheStore.open(path);
    await store.setMeta({ encoder: 'some-other-model', dimension: 384 });
    await assert.rejects(SemanticCache.open({ encoder, store }), /encoder: this sqlite cache holds vectors from "some-other-model" \(384-d\), not "use-lite" \(512-d\)/);
    await store.close();
  });
  // Killing a writer mid-write: test/crash-points.test.ts stops it at each named point and checks the file.
});
