import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exists } from '../util/fs.js';
import { copyTokenizerFrom, writeModelFolder } from '../models/model-writer.js';
import { SeededRandom } from '../models/random.js';
import type { Ranker } from '../rank/results.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { createProgress } from '../util/progress.js';
import { TorchBert } from './engine.js';
import type { Loss } from './losses/loss.js';
import type { TrainRequest } from './losses/registry.js';
import { TorchRanker } from './torch-ranker.js';
import type { TrainableModel } from './trainable-model.js';
import type { TrainingConfig } from './training-config.js';
import { InputError } from '../errors.js';

/** What an evaluator reports: a headline number (higher is better) plus whatever else it measured. */
export interface Evaluation<Details = unknown> {
  score: number;
  details: Details;
}

export interface TrainOptions<Example, Details> {
  model: TrainableModel;
  loss: Loss<Example, TrainRequest>;
  config: TrainingConfig;
  /** Run before training, every `evaluationSteps`, and after; on the model being trained. */
  evaluate?: (ranker: Ranker) => Promise<Evaluation<Details>>;
  /** Draw a progress bar with loss and ETA on a TTY (default true). */
  showProgress?: boolean;
  /** Throw away a checkpoint left by an earlier run instead of resuming from it. */
  restart?: boolean;
  onStep?: (step: { step: number; totalSteps: number; epoch: number; loss: number; lr: number }) => void;
}

export interface TrainResult<Details> {
  outputDir: string;
  steps: number;
  epochs: number;
  /** Loss of every step, in order. */
  losses: number[];
  evaluations: Array<{ step: number; evaluation: Evaluation<Details> }>;
  /** The step a crashed run's checkpoint let this one start from (0: a fresh run). */
  resumedFromStep: number;
  seconds: number;
}

interface CheckpointState {
  fingerprint: string;
  step: number;
  engineFile: string;
  losses: number[];
  evaluations: Array<{ step: number; evaluation: Evaluation<unknown> }>;
}

/**
 * The training loop shared by every trainer: seeded shuffling per epoch, batches through the loss into the libtorch
 * engine, evaluation before/during/after, checkpoints that a crashed run resumes from, and the export of a complete
 * model folder (safetensors + both ONNX files) at the end.
 */
export async function train<Example, Details>(examples: readonly Example[], options: TrainOptions<Example, Details>): Promise<TrainResult<Details>> {
  const { model, loss, config } = options;
  if (examples.length === 0) throw new InputError('training data: no examples');
  if (loss.target !== (model.head === 'sequence-classification' ? 'cross-encoder' : 'bi-encoder')) {
    throw new InputError(`loss "${loss.name}" trains a ${loss.target}, but the model was loaded with head "${model.head}"`);
  }
  const started = performance.now();
  const stepsPerEpoch = Math.ceil(examples.length / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const engine = TorchBert.create({
    config: model.config,
    head: model.head,
    weights: model.weights,
    pooling: model.pooling,
    seed: config.seed,
    threads: config.threads,
  });
  engine.configureOptimizer({
    lr: config.learningRate,
    weightDecay: config.weightDecay,
    warmupSteps: Math.round(config.warmupRatio * totalSteps),
    totalSteps,
    maxGradNorm: config.maxGradNorm,
  });

  const checkpointDir = `${config.outputDir.replace(/\/+$/, '')}.checkpoint`;
  const fingerprint = fingerprintOf(model, loss, config, examples);
  let state: CheckpointState = { fingerprint, step: 0, engineFile: '', losses: [], evaluations: [] };
  const previous = await readCheckpointState(checkpointDir);
  if (previous && !options.restart) {
    if (previous.fingerprint !== fingerprint) {
      throw new InputError(
        `${checkpointDir} holds a checkpoint of a different run (other data, model or settings); ` +
          'delete it, or restart (--restart) to overwrite it',
      );
    }
    await engine.loadCheckpoint(join(checkpointDir, previous.engineFile));
    state = previous;
  } else if (previous) {
    await rm(checkpointDir, { recursive: true, force: true });
  }
  const resumedFromStep = state.step;

  const ranker = new TorchRanker(`${model.name} (training)`, engine, model.tokenizer, loss.target, config.maxLength, model.config);
  const evaluate = async (step: number) => {
    if (!options.evaluate) return;
    state.evaluations.push({ step, evaluation: await options.evaluate(ranker) });
  };
  if (state.step === 0) await evaluate(0);

  const progress = createProgress({ total: totalSteps, label: `training (${loss.name})`, enabled: options.showProgress ?? true });
  progress.tick(state.step);
  try {
    for (let epoch = Math.floor(state.step / stepsPerEpoch); epoch < config.epochs; epoch++) {
      const order = epochOrder(examples.length, config.seed, epoch);
      for (let b = state.step - epoch * stepsPerEpoch; b < stepsPerEpoch; b++) {
        const batch = order.slice(b * config.batchSize, (b + 1) * config.batchSize).map((i) => examples[i]);
        const result = await engine.trainStep(loss.request(batch, model.tokenizer, config.maxLength));
        if (!Number.isFinite(result.loss)) throw new InputError(`training diverged: loss is ${result.loss} at step ${state.step + 1}`);
        state.step++;
        state.losses.push(result.loss);
        progress.tick(1, `loss ${result.loss.toFixed(4)}  lr ${result.lr.toExponential(1)}`);
        options.onStep?.({ step: state.step, totalSteps, epoch, loss: result.loss, lr: result.lr });
        if (config.evaluationSteps > 0 && state.step % config.evaluationSteps === 0 && state.step < totalSteps) await evaluate(state.step);
        const epochEnd = b === stepsPerEpoch - 1;
        if ((config.checkpointSteps > 0 && state.step % config.checkpointSteps === 0) || (epochEnd && state.step < totalSteps)) {
          await saveCheckpoint(engine, checkpointDir, state);
        }
      }
    }
    // Ends the bar before the final evaluation prints; the call in `finally` is a no-op then, and cleans up on errors.
    progress.done();
    await evaluate(totalSteps);
    await writeModelFolder(config.outputDir, {
      config: model.config,
      head: model.head,
      weights: engine.state(),
      writeTokenizer: copyTokenizerFrom(model.dir),
      pooling: model.pooling,
      overwrite: true,
    });
    await rm(checkpointDir, { recursive: true, force: true });
  } finally {
    progress.done();
    engine.dispose();
  }
  return {
    outputDir: config.outputDir,
    steps: totalSteps,
    epochs: config.epochs,
    losses: state.losses,
    evaluations: state.evaluations as TrainResult<Details>['evaluations'],
    resumedFromStep,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The same permutation for the same seed and epoch, so a resumed run sees the batches it would have seen. */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  return new SeededRandom(seed * 1000003 + epoch).shuffle(Array.from({ length: count }, (_, i) => i));
}

function fingerprintOf(model: TrainableModel, loss: Loss<unknown, TrainRequest>, config: TrainingConfig, examples: readonly unknown[]): string {
  const { evaluationSteps: _e, checkpointSteps: _c, threads: _t, ...shaping } = config;
  return createHash('sha256')
    .update(JSON.stringify({ model: model.name, head: model.head, loss: loss.name, config: shaping }))
    .update(JSON.stringify(examples))
    .digest('hex');
}

async function readCheckpointState(dir: string): Promise<CheckpointState | null> {
  const path = join(dir, 'state.json');
  if (!(await exists(path))) return null;
  return JSON.parse(await readFile(path, 'utf8')) as CheckpointState;
}

/**
 * Engine files are named by step and state.json, written last and atomically, names the one to load: a crash at any
 * moment leaves the previous consistent pair.
 */
async function saveCheckpoint(engine: TorchBert, dir: string, state: CheckpointState): Promise<void> {
  await mkdir(dir, { recursive: true });
  const engineFile = `engine-${state.step}.pt`;
  await engine.saveCheckpoint(join(dir, `${engineFile}.tmp`));
  await rename(join(dir, `${engineFile}.tmp`), join(dir, engineFile));
  state.engineFile = engineFile;
  await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state));
  for (const file of await readdir(dir)) {
    if (file.startsWith('engine-') && file !== engineFile) await rm(join(dir, file), { force: true });
  }
}
