/**
 * Where the built-in reranker lives and how it is made (src/train/default-reranker.ts builds it). Kept below the
 * rank and train layers so that `loadRanker('default')` can find a built model without depending on the trainer.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultCacheDir } from './hub.js';

const DATASETS = fileURLToPath(new URL('../../datasets/', import.meta.url));
export const DEFAULT_RERANKER_TRAIN_FILE = join(DATASETS, 'reranker', 'train.jsonl');
export const DEFAULT_RERANKER_EVAL_FILE = join(DATASETS, 'reranker', 'eval.jsonl');

/** The recipe. Changing any of it (or the data) changes the cache folder, so the model is rebuilt. */
export const DEFAULT_RERANKER_RECIPE = {
  base: 'use-lite',
  loss: 'bce',
  /** See src/train/augment-pairs.ts: what the hard-negative data alone cannot teach. */
  augment: { easyNegativesPerQuery: 8, positiveCopies: 2, siblingLabel: 0.6, seed: 5 },
  epochs: 3,
  batchSize: 16,
  learningRate: 1e-4,
  warmupRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  maxLength: 128,
  seed: 42,
} as const;

/** The versioned cache folder the built-in reranker lives in (it may not exist yet). */
export async function defaultRerankerFolder(cacheDir = defaultCacheDir()): Promise<string> {
  const hash = createHash('sha256')
    .update(JSON.stringify(DEFAULT_RERANKER_RECIPE))
    .update(await readFile(DEFAULT_RERANKER_TRAIN_FILE))
    .digest('hex')
    .slice(0, 12);
  return join(cacheDir, 'rankwise', `default-reranker-${hash}`);
}

