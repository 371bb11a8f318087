import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lengthSortedBatches } from '../src/models/batching.js';
import { SeededRandom } from '../src/models/random.js';

test('length-sorted batches cover every index once, respect both bounds, and group similar lengths', { timeout: 30_000 }, () => {
  const rng = new SeededRandom(7);
  const lengths = Array.from({ length: 203 }, () => 3 + Math.floor(rng.next() * 300));
  const batches = lengthSortedBatches(lengths, { maxBatchSize: 16, maxBatchTokens: 16 * 128 });
  const seen = batches.flat().sort((a, b) => a - b);
  assert.deepEqual(seen, lengths.map((_, i) => i));
  for (const batch of batches) {
    assert.ok(batch.length >= 1 && batch.length <= 16);
    const width = Math.max(...batch.map((i) => lengths[i]));
    // A single sequence longer than the token budget still has to run, alone.
    assert.ok(batch.length === 1 || batch.length * width <= 16 * 128, `batch of ${batch.length} x ${width} tokens`);
  }
  const padded = batches.reduce((sum, b) => sum + b.length * Math.max(...b.map((i) => lengths[i])), 0);
  const naive = lengths.length * Math.max(...lengths);
  const real = lengths.reduce((a, b) => a + b, 0);
  assert.ok(padded < naive * 0.7, `sorted batches pad ${padded} tokens vs ${naive} padded to the longest`);
  assert.ok(padded < real * 1.15, `padding overhead ${(padded / real).toFixed(3)}`);
});

test('lengths arrive longest first and ties keep input order', { timeout: 30_000 }, () => {
  assert.deepEqual(lengthSortedBatches([5, 9, 5, 9, 1], { maxBatchSize: 2 }), [[1, 3], [0, 2], [4]]);
});

test('a bad batch size is an error that names it', { timeout: 30_000 }, () => {
  assert.throws(() => lengthSortedBatches([1, 2], { maxBatchSize: 0 }), /batchSize must be a positive integer/);
});
