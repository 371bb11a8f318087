import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lengthSortedBatches } from '../src/models/batching.js';
import { SeededRandom } from '../src/models/random.js';
import type { Encoded } from '../src/models/tokenizer/index.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { ScoreBatcher } from '../src/serve/batcher.js';
import { fixtureModel } from './helpers/fixtures.js';

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

// The cross-request batcher, over a real fixture cross-encoder; the wrapper only records what each model call carried.
async function recordingScorer() {
  const model = await CrossEncoder.load(await fixtureModel({ kind: 'cross-encoder', seed: 5 }), { threads: 1 });
  const calls: number[] = [];
  const scorer = {
    async scoreEncoded(sequences: readonly Encoded[], options: { activation: 'none'; batchSize: number; maxBatchTokens: number }) {
      calls.push(sequences.length);
      return model.scoreEncoded(sequences, options);
    },
  };
  const words = 'query document token model score rank batch cache index vector'.split(' ');
  const seq = (i: number): Encoded => model.tokenizer.encodePair('which document answers the query', words.slice(0, 2 + (i % 8)).join(' '), { maxLength: 64 });
  const alone = async (i: number) => (await model.scoreEncoded([seq(i)], { activation: 'none' }))[0];
  return { model, calls, scorer, seq, alone };
}

test('a pooled model call holds no more work than the model does in targetCallMs, and every request gets its own scores', { timeout: 120_000 }, async () => {
  const { model, calls, scorer, seq, alone } = await recordingScorer();
  const requests = Array.from({ length: 24 }, (_, r) => [r, r + 1, r + 2].slice(0, 1 + (r % 3)));
  const tokens = requests.flat().reduce((sum, i) => sum + seq(i).inputIds.length, 0);
  const run = async (targetCallMs: number) => {
    // The budget fits every request at once; a call held to its time target still pools an eighth of it. A long
    // window, so that calls start when their budget is full, however slow this machine is at the moment.
    const batcher = new ScoreBatcher(scorer, { maxBatchTokens: tokens, maxQueue: 100, batchWaitMs: 1000, targetCallMs });
    await batcher.submit([seq(0)]).scores; // one call to learn the model's time per token
    calls.length = 0;
    // Tokenized first, so that submitting is quick.
    const encoded = requests.map((ids) => ids.map(seq));
    const answers = await Promise.all(encoded.map((sequences) => batcher.submit(sequences).scores));
    for (const [r, ids] of requests.entries()) {
      for (const [k, i] of ids.entries()) assert.ok(Math.abs(answers[r][k] - (await alone(i))) < 1e-5, `request ${r}, sequence ${k}`);
    }
    await batcher.close();
    return [...calls];
  };
  const sequences = requests.reduce((sum, ids) => sum + ids.length, 0);
  // With time to spare, everything waiting goes in one call; held to a fraction of a millisecond, calls stay small.
  assert.deepEqual(await run(60_000), [sequences]);
  const short = await run(0.05);
  assert.ok(short.length >= 6 && short.length <= 24, `calls of ${short.join(', ')} sequences`);
  assert.equal(short.reduce((a, b) => a + b, 0), sequences);
  await model.dispose();
});

test('bad batcher options are errors that name them', { timeout: 120_000 }, async () => {
  const { model, scorer } = await recordingScorer();
  assert.throws(() => new ScoreBatcher(scorer, { maxBatchTokens: 10, maxQueue: 1, batchWaitMs: 5, targetCallMs: 0 }), /targetCallMs: expected a positive number/);
  assert.throws(() => new ScoreBatcher(scorer, { maxBatchTokens: 0, maxQueue: 1, batchWaitMs: 5 }), /maxBatchTokens: expected a positive integer/);
  assert.throws(() => new ScoreBatcher(scorer, { maxBatchTokens: 10, maxQueue: 1, batchWaitMs: -1 }), /batchWaitMs: expected a non-negative number/);
  await model.dispose();
});
