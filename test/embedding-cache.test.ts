import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { EmbeddingCache } from '../src/models/embedding-cache.js';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import type { SentenceEncoder } from '../src/models/sentence-encoder.js';

describe('EmbeddingCache over the real USE Lite encoder', { timeout: 60_000 }, async () => {
  const useLite = await loadSentenceEncoder('use-lite');
  after(() => useLite.dispose());
  // Counts what reaches the encoder; the vectors themselves come from USE Lite.
  let encoded: string[] = [];
  const counting: SentenceEncoder = {
    name: useLite.name,
    dimension: useLite.dimension,
    encode: (texts, options) => {
      encoded.push(...texts);
      return useLite.encode(texts, options);
    },
    dispose: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };

  test('vectors equal a direct encoding; a text is encoded once while cached', async () => {
    const cache = new EmbeddingCache(10);
    const texts = ['reset the router', 'brew coffee', 'reset the router', 'owls hunt at night'];
    const first = await cache.encode(counting, texts);
    assert.deepEqual(encoded, ['reset the router', 'brew coffee', 'owls hunt at night']);
    const direct = await useLite.encode(texts, { normalize: true });
    first.forEach((v, i) => v.forEach((x, j) => assert.ok(Math.abs(x - direct[i][j]) < 1e-6)));
    encoded = [];
    const again = await cache.encode(counting, ['brew coffee', 'a new text']);
    assert.deepEqual(encoded, ['a new text']);
    assert.equal(again[0], first[1], 'the cached vector itself');
  });

  test('least recently used texts are evicted first, and capacity 0 caches nothing', async () => {
    const cache = new EmbeddingCache(2);
    await cache.encode(counting, ['a a', 'b b']);
    await cache.encode(counting, ['a a']); // a is now the most recent
    await cache.encode(counting, ['c c']); // evicts b
    encoded = [];
    await cache.encode(counting, ['a a', 'b b']);
    assert.deepEqual(encoded, ['b b']);
    assert.equal(cache.size, 2);
    const none = new EmbeddingCache(0);
    encoded = [];
    await none.encode(counting, ['x x']);
    await none.encode(counting, ['x x']);
    assert.deepEqual(encoded, ['x x', 'x x']);
    assert.throws(() => new EmbeddingCache(-1), /capacity: expected a non-negative integer, got -1/);
  });
});
