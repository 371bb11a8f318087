/**
 * The built-in reranker: where it lives, what happens before it is built, and that the model our trainer builds from
 * the pretrained USE Lite backbone and datasets/reranker/ really reranks: it separates answers from hard distractors
 * on held-out cases better than the pretrained bi-encoder it starts from.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluatePairwise, readPairwiseCases } from '../src/eval/pairwise.js';
import { DEFAULT_RERANKER_EVAL_FILE, defaultRerankerFolder } from '../src/models/default-reranker-folder.js';
import { DEFAULT_RERANKER, loadRanker } from '../src/rank/load-ranker.js';
import { ensureDefaultReranker } from '../src/train/default-reranker.js';
import { scratchDir } from './helpers/fixtures.js';

test('before it is built, loadRanker("default") says how to build it; the folder name follows the recipe and data', { timeout: 300_000 }, async () => {
  const empty = await scratchDir();
  const saved = process.env.RANKWISE_CACHE;
  process.env.RANKWISE_CACHE = empty;
  try {
    await assert.rejects(loadRanker(DEFAULT_RERANKER), /built-in reranker has not been built.*build:default-reranker/s);
    const folder = await defaultRerankerFolder();
    assert.ok(folder.startsWith(join(empty, 'rankwise', 'default-reranker-')), folder);
    assert.match(folder, /default-reranker-[0-9a-f]{12}$/);
  } finally {
    if (saved === undefined) delete process.env.RANKWISE_CACHE;
    else process.env.RANKWISE_CACHE = saved;
  }
});

test('the built reranker beats the pretrained bi-encoder on held-out relevant-vs-distractor cases', { timeout: 300_000 }, async () => {
  const build = await ensureDefaultReranker({ showProgress: false });
  assert.equal(build.dir, await defaultRerankerFolder());
  const cases = await readPairwiseCases(DEFAULT_RERANKER_EVAL_FILE);
  const reranker = await loadRanker(DEFAULT_RERANKER);
  const biEncoder = await loadRanker('use-lite');
  try {
    const trained = await evaluatePairwise(reranker, cases);
    const pretrained = await evaluatePairwise(biEncoder, cases);
    assert.ok(trained.accuracy >= 0.75, `cross-encoder accuracy ${trained.accuracy}`);
    assert.ok(trained.accuracy > pretrained.accuracy + 0.1, `cross-encoder ${trained.accuracy} vs bi-encoder ${pretrained.accuracy}`);
    assert.ok(trained.unseen.passed / trained.unseen.total >= 0.65, `topics absent from training: ${trained.unseen.passed}/${trained.unseen.total}`);
  } finally {
    await reranker.dispose?.();
    await biEncoder.dispose?.();
  }
});
