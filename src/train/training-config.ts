/** Everything that shapes a training run. Same config + same data + same seed = the same model, bit for bit. */
import { InputError } from '../errors.js';
export interface TrainingConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Share of all steps spent warming the learning rate up from 0; it then decays linearly to 0. */
  warmupRatio: number;
  weightDecay: number;
  maxGradNorm: number;
  /** Longest pair (cross-encoder) or text (bi-encoder) in tokens. */
  maxLength: number;
  seed: number;
  /** Run the evaluator every this many steps (0: only before and after training). */
  evaluationSteps: number;
  /** Save a checkpoint every this many steps (0: only at the end of each epoch). */
  checkpointSteps: number;
  /** Where the trained model folder is written; checkpoints live in `<outputDir>.checkpoint`. */
  outputDir: string;
  threads?: number;
}

export const DEFAULT_TRAINING_CONFIG: Omit<TrainingConfig, 'outputDir'> = {
  epochs: 1,
  batchSize: 16,
  learningRate: 2e-5,
  warmupRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  maxLength: 256,
  seed: 42,
  evaluationSteps: 0,
  checkpointSteps: 0,
};

/** Fills defaults and checks every field, naming the one that is wrong. */
export function resolveTrainingConfig(partial: Partial<TrainingConfig> & { outputDir: string }): TrainingConfig {
  const config = { ...DEFAULT_TRAINING_CONFIG, ...dropUndefined(partial) } as TrainingConfig;
  const positiveInts = ['epochs', 'batchSize', 'maxLength'] as const;
  for (const key of positiveInts) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new InputError(`${key}: expected a positive integer, got ${config[key]}`);
  }
  for (const key of ['seed', 'evaluationSteps', 'checkpointSteps'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 0) throw new InputError(`${key}: expected a non-negative integer, got ${config[key]}`);
  }
  if (!(config.learningRate > 0 && config.learningRate < 1)) throw new InputError(`learningRate: expected a number in (0, 1), got ${config.learningRate}`);
  if (!(config.warmupRatio >= 0 && config.warmupRatio < 1)) throw new InputError(`warmupRatio: expected a number in [0, 1), got ${config.warmupRatio}`);
  if (!(config.weightDecay >= 0)) throw new InputError(`weightDecay: expected a non-negative number, got ${config.weightDecay}`);
  if (!(config.maxGradNorm > 0)) throw new InputError(`maxGradNorm: expected a positive number, got ${config.maxGradNorm}`);
  if (config.maxLength < 4) throw new InputError(`maxLength: expected at least 4, got ${config.maxLength}`);
  if (typeof config.outputDir !== 'string' || config.outputDir === '') throw new InputError('outputDir: expected a folder path');
  return config;
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
