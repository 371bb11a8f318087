/**
 * The built-in reranker: a cross-encoder on the pretrained USE Lite backbone, fine-tuned with BCE by our own trainer
 * on our own multi-domain data (datasets/reranker/, augmented as src/train/augment-pairs.ts explains). Its weights are too large for the repository (about 28 MB of
 * float32), so it is built on first use, deterministically (fixed seed and data), into the model cache; the folder
 * name carries a hash of the recipe and the data, so editing either builds a fresh one instead of reusing a stale one.
 */
import { join } from 'node:path';
import { readPairwiseCases, type PairwiseResult } from '../eval/pairwise.js';
import {
  DEFAULT_RERANKER_EVAL_FILE,
  DEFAULT_RERANKER_RECIPE,
  DEFAULT_RERANKER_TRAIN_FILE,
  defaultRerankerFolder,
} from '../models/default-reranker-folder.js';
import { exists } from '../util/fs.js';
import { readJsonLines } from '../util/jsonl.js';
import { augmentPairs } from './augment-pairs.js';
import { fineTune } from './fine-tune.js';
import { BinaryCrossEntropyLoss, type LabelledPair } from './losses/binary-cross-entropy.js';
import { stringField } from './losses/loss.js';
import { resolveTrainingConfig, type TrainingConfig } from './training-config.js';

export interface BuildDefaultRerankerOptions {
  /** Where to write the model (default: the versioned folder in the model cache). */
  outputDir?: string;
  /** Progress bar on a TTY (default true). */
  showProgress?: boolean;
  /** Rebuild even when the folder exists. */
  force?: boolean;
  threads?: number;
}

export interface DefaultRerankerBuild {
  dir: string;
  /** False when an existing build was reused. */
  built: boolean;
  seconds: number;
  steps: number;
  /** Pairwise accuracy on datasets/reranker/eval.jsonl before (the untrained head) and after training. */
  before?: PairwiseResult;
  after?: PairwiseResult;
}

/** The built-in reranker's folder, trained now (about a minute on 2 cores) when this machine has not built it yet. */
export async function ensureDefaultReranker(options: BuildDefaultRerankerOptions = {}): Promise<DefaultRerankerBuild> {
  const dir = options.outputDir ?? (await defaultRerankerFolder());
  if (!options.force && (await exists(join(dir, 'onnx', 'model.onnx')))) return { dir, built: false, seconds: 0, steps: 0 };
  const loss = new BinaryCrossEntropyLoss();
  const pairs = (await readJsonLines(DEFAULT_RERANKER_TRAIN_FILE, 'reranker/train.jsonl')).map(({ line, value }) => {
    const where = `${DEFAULT_RERANKER_TRAIN_FILE}:${line}`;
    return { ...loss.parseExample(value, where), topic: stringField(value, 'topic', where) };
  });
  const { base, loss: _loss, augment, ...settings } = DEFAULT_RERANKER_RECIPE;
  const examples = augmentPairs(pairs, augment);
  const evalCases = await readPairwiseCases(DEFAULT_RERANKER_EVAL_FILE);
  const config: TrainingConfig = resolveTrainingConfig({ ...settings, outputDir: dir, threads: options.threads });
  const result = await fineTune<LabelledPair>({
    base,
    target: 'cross-encoder',
    loss,
    examples,
    config,
    evalCases,
    showProgress: options.showProgress ?? true,
    restart: true,
  });
  return { dir, built: true, seconds: result.training.seconds, steps: result.training.steps, before: result.before, after: result.after };
}

