import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SemanticCache } from '../src/cache/semantic-cache.js';
import { SqliteCacheStore } from '../src/cache/sqlite-store.js';
import { VectorIndex } from '../src/cache/vector-index.js';
import { CosineVerifier, CrossEncoderVerifier } from '../src/cache/verifier.js';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import { SeededRandom } from '../src/models/random.js';
import type { SentenceEncoder } from '../src/models/sentence-encoder.js';
import { dot, l2normalize } from '../src/models/vectors.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { fixtureModel } from './helpers/fixtures.js';

function randomUnitVectors(count: number, dimension: number, seed: number): Float32Array[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => l2normalize(Float32Array.from({ length: dimension }, () => random.normal())));
}

describe('vector index (HNSW, inner product)', { timeout: 120_000 }, () => {
  const vectors = randomUnitVectors(600, 32, 11);

  it('finds the exact nearest neighbours of a brute-force search, with cosine scores', () => {
    // Starts small so that it has to grow several times on the way.
    const index = new VectorIndex(32, { initialCapacity: 16, efSearch: 100 });
    vectors.forEach((v, i) => index.add(i + 1, v));
    assert.equal(index.size, 600);
    for (const query of randomUnitVectors(20, 32, 12)) {
      const exact = vectors.map((v, i) => ({ label: i + 1, score: dot(query, v) })).sort((a, b) => b.score - a.score).slice(0, 5);
      const found = index.nearest(query, 5);
      assert.deepEqual(found.map((n) => n.label), exact.map((n) => n.label));
      found.forEach((n, i) => assert.ok(Math.abs(n.score - exact[i].score) < 1e-5));
    }
  });

  it('forgets removed labels, reuses their slots and never returns more than it holds', () => {
    const index = new VectorIndex(32, { initialCapacity: 4 });
    vectors.slice(0, 4).forEach((v, i) => index.add(i + 1, v));
    index.remove(1);
    index.remove(1); // twice is harmless
    assert.equal(index.has(1), false);
    assert.ok(!index.nearest(vectors[0], 4).some((n) => n.label === 1));
    index.add(99, vectors[0]); // takes the deleted slot: capacity 4 is enough
    assert.equal(index.nearest(vectors[0], 1)[0].label, 99);
    assert.equal(index.nearest(vectors[0], 50).length, 4);
    assert.deepEqual(new VectorIndex(32).nearest(vectors[0], 3), []);
    assert.throws(() => index.add(7, new Float32Array(3)), /vector: expected 32 values, got 3/);
  });
});

describe('semantic cache lookups', { timeout: 120_000 }, () => {
  let encoder: SentenceEncoder;
  before(async () => {
    encoder = await loadSentenceEncoder('use-lite');
  });
  after(async () => {
    await encoder.dispose?.();
  });

  const seeds = [
    'How do I reset my password?',
    'How do I export my data from the platform?',
    'How do I enable two-factor login?',
    'Cheapest flights from London to Paris next week',
    'How do I connect Slack to my workspace?',
  ];
  const probes = [
    'How can I reset my password?',
    'How do I disable two-factor login?',
    'Cheapest flights from Paris to London next week',
    'How do I link my workspace with Slack?',
    'How do I import my data into the platform?',
    'What is the capital of Australia?',
  ];

  it('two-step and the article\'s scan reach the same decisions', async () => {
    const cache = await SemanticCache.open({ encoder, store: await SqliteCacheStore.open(':memory:'), candidates: 3 });
    for (const s of seeds) await cache.store(s, s);
    for (const probe of probes) {
      const twoStep = await cache.lookup(probe);
      const scan = await cache.lookup(probe, { strategy: 'scan' });
      assert.equal(twoStep.hit, scan.hit, probe);
      assert.equal(twoStep.matched?.id, scan.matched?.id, probe);
      assert.ok(Math.abs((twoStep.score ?? 0) - (scan.score ?? 0)) < 1e-5, probe);
    }
    assert.equal((await cache.lookup('How can I reset my password?')).value, seeds[0]);
    assert.equal((await cache.lookup('How do I disable two-factor login?')).hit, false);
    await cache.close();
  });

  it('verifies with a cross-encoder when given one: its scores, its threshold, and the guard still applies', async () => {
    const folder = await fixtureModel({ kind: 'cross-encoder', layers: 1, hidden: 32, heads: 2, intermediate: 64, seed: 3 });
    const model = await CrossEncoder.load(folder);
    const verifier = new CrossEncoderVerifier(model);
    const query = 'How can I reset my password?';
    const expected = await model.predict([[query, seeds[0]]]);
    const vector = new Float32Array(encoder.dimension);
    assert.deepEqual(await verifier.score({ text: query, vector }, [{ text: seeds[0], vector }]), [expected[0]]);
    assert.deepEqual(await verifier.score({ text: query, vector }, []), []);

    // Sigmoid scores lie in (0, 1): threshold 0 accepts whatever the model says, above 1 accepts nothing.
    const open = async (threshold: number) =>
      SemanticCache.open({ encoder, store: await SqliteCacheStore.open(':memory:'), verifier, threshold, candidates: 1 });
    const lenient = await open(0);
    await lenient.store(seeds[0], 'A');
    await lenient.store(seeds[2], 'B');
    const hit = await lenient.lookup(query);
    assert.equal(hit.hit, true);
    assert.equal(hit.matched?.query, seeds[0]);
    assert.ok(Math.abs(hit.score! - expected[0]) < 1e-6, 'the score is the cross-encoder\'s');
    const opposite = await lenient.lookup('How do I disable two-factor login?');
    assert.equal(opposite.hit, false);
    assert.equal(opposite.vetoed[0].veto.rule, 'antonym');
    await lenient.close();

    const strict = await open(1.01);
    await strict.store(seeds[0], 'A');
    assert.equal((await strict.lookup(seeds[0])).hit, false);
    await strict.close();
    await model.dispose();
  });

  it('runs the pipeline once per question with getOrCompute', async () => {
    const cache = await SemanticCache.open({ encoder, store: await SqliteCacheStore.open(':memory:') });
    let runs = 0;
    const pipeline = async (q: string) => ({ answer: `ranked for ${q}`, run: ++runs });
    const first = await cache.getOrCompute('How do I reset my password?', pipeline);
    const again = await cache.getOrCompute('How do I reset my password?', pipeline);
    assert.deepEqual([first.hit, again.hit, runs], [false, true, 1]);
    assert.deepEqual(again.value, first.value);
    await cache.close();
  });

  it('a match the caller rejects as stale is no hit: counted as stale and as a miss, and a fresh match still answers', async () => {
    const cache = await SemanticCache.open({ encoder, store: await SqliteCacheStore.open(':memory:') });
    await cache.store('How do I reset my password?', { answer: 'old', version: 1 });
    const current = (value: { version: number }) => value.version === 2;
    const stale = await cache.lookup<{ answer: string; version: number }>('How can I reset my password?', { accept: current });
    assert.deepEqual([stale.hit, stale.value], [false, undefined]);
    assert.deepEqual(await cache.stats(), { ...(await cache.stats()), hits: 0, misses: 1, stale: 1, hitRate: 0 });
    // The same query stored again (same key) on the new version replaces the stale answer.
    await cache.store('How do I reset my password?', { answer: 'new', version: 2 });
    const fresh = await cache.lookup<{ answer: string; version: number }>('How can I reset my password?', { accept: current });
    assert.deepEqual([fresh.hit, fresh.value?.answer], [true, 'new']);
    const stats = await cache.stats();
    assert.deepEqual([stats.hits, stats.misses, stats.stale, stats.hitRate], [1, 1, 1, 0.5]);
    await cache.close();
  });

  it('checks its options', async () => {
    const store = await SqliteCacheStore.open(':memory:');
    await assert.rejects(SemanticCache.open({ encoder, store, threshold: Number.NaN }), /threshold: expected a number, got NaN/);
    await assert.rejects(SemanticCache.open({ encoder, store, candidates: 0 }), /candidates: expected a positive integer, got 0/);
    await assert.rejects(SemanticCache.open({ encoder, store, ttlMs: -5 }), /ttlMs: expected a positive number of milliseconds or null, got -5/);
    await assert.rejects(SemanticCache.open({ encoder, store, maxEntries: 1.5 }), /maxEntries: expected a positive integer, got 1.5/);
    await assert.rejects(SemanticCache.open({ encoder, store, strategy: 'linear' as 'scan' }), /strategy: expected "two-step" or "scan", got "linear"/);
    const cache = await SemanticCache.open({ encoder, store, verifier: new CosineVerifier() });
    await assert.rejects(cache.store('q', 1, { vector: new Float32Array(3) }), /vector: expected 512 values, got 3/);
    await cache.close();
  });
});
