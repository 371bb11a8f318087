/**
 * The build of the built-in model (`npm run build:default-reranker`), in a small version: the real recipe's steps
 * (fine-tune USE Lite on the real-text pairs, background BM25 statistics, the logistic combination fitted on a dev
 * set) with 64 training queries and 20 fitting queries. It must give a loadable, calibrated hybrid model, and the
 * same bytes and weights when run again with the same recipe.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { HybridRanker } from '../src/rank/hybrid-ranker.js';
import { loadRanker } from '../src/rank/load-ranker.js';
import { scoresOf } from '../src/rank/results.js';
import { buildDefaultModel, DEFAULT_MODEL_RECIPE, type DefaultModelRecipe } from '../src/train/default-reranker.js';
import { scratchDir } from './helpers/fixtures.js';

const SMALL: DefaultModelRecipe = {
  ...DEFAULT_MODEL_RECIPE,
  encoder: { ...DEFAULT_MODEL_RECIPE.encoder, queries: 64, batchSize: 16 },
  combination: { ...DEFAULT_MODEL_RECIPE.combination, fitSets: ['glossary'], depth: 50, maxQueries: 20 },
};

test('a small build of the built-in model: a calibrated hybrid, the same bytes when rebuilt', { timeout: 600_000 }, async () => {
  const work = await scratchDir();
  const first = await buildDefaultModel(join(work, 'a'), { recipe: SMALL, showProgress: false, threads: 2 });
  assert.equal(first.encoder?.steps, 4);
  // Both signals carry evidence of relevance on the dev set: the fit gives each a positive weight.
  assert.ok(first.combination.weights.bm25 > 0 && first.combination.weights.encoder > 0, JSON.stringify(first.combination));
  assert.equal(first.combination.rows > 900 && first.combination.positives > 10, true, JSON.stringify(first.combination));

  const config = JSON.parse(await readFile(join(work, 'a', 'config.json'), 'utf8'));
  assert.equal(config.model_type, 'rankwise-hybrid');
  assert.equal(config.combination, 'logistic');
  assert.deepEqual(config.signals.map((s: { kind: string; path: string }) => [s.kind, s.path]), [['bm25', 'bm25.json'], ['encoder', 'encoder']]);
  const statistics = JSON.parse(await readFile(join(work, 'a', 'bm25.json'), 'utf8'));
  assert.ok(statistics.documents > 40_000 && Object.values(statistics.df as Record<string, number>).every((n) => n >= 2));

  const ranker = await loadRanker(join(work, 'a'));
  try {
    assert.ok(ranker instanceof HybridRanker);
    const scores = await scoresOf(ranker, 'a program that compresses files', [
      'gzip reduces the size of the named files using Lempel-Ziv coding.',
      'The heron is a long-legged freshwater bird.',
    ]);
    assert.ok(scores.every((p) => p > 0 && p < 1), `probabilities: ${scores}`);
    assert.ok(scores[0] > scores[1], `the answer first: ${scores}`);
  } finally {
    await ranker.dispose?.();
  }

  const second = await buildDefaultModel(join(work, 'b'), { recipe: SMALL, showProgress: false, threads: 2 });
  assert.deepEqual(second.combination, first.combination);
  const weights = async (dir: string) => readFile(join(work, dir, 'encoder', 'model.safetensors'));
  assert.ok((await weights('a')).equals(await weights('b')), 'the same encoder weights, byte for byte');
  assert.equal(await readFile(join(work, 'b', 'bm25.json'), 'utf8'), await readFile(join(work, 'a', 'bm25.json'), 'utf8'));
});
