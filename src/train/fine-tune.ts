import { evaluatePairwise, type PairwiseCase, type PairwiseResult } from '../eval/pairwise.js';
import type { Loss, LossTarget } from './losses/loss.js';
import type { TrainRequest } from './losses/registry.js';
import { loadTrainableModel } from './trainable-model.js';
import { train, type TrainResult } from './trainer.js';
import type { TrainingConfig } from './training-config.js';

export interface FineTuneOptions<Example> {
  /** Model folder or hub id to start from. */
  base: string;
  target: LossTarget;
  loss: Loss<Example, TrainRequest>;
  examples: readonly Example[];
  config: TrainingConfig;
  /** Relevant-vs-distractor cases scored before training, every `evaluationSteps`, and after. */
  evalCases?: readonly PairwiseCase[];
  showProgress?: boolean;
  restart?: boolean;
}

export interface FineTuneResult {
  training: TrainResult<PairwiseResult>;
  before?: PairwiseResult;
  after?: PairwiseResult;
}

/** Base model in, trained model folder out, with the pairwise evaluation before and after: the article's workflow. */
export async function fineTune<Example>(options: FineTuneOptions<Example>): Promise<FineTuneResult> {
  const model = await loadTrainableModel(options.base, options.target, options.config.seed);
  const cases = options.evalCases;
  const training = await train(options.examples, {
    model,
    loss: options.loss,
    config: options.config,
    showProgress: options.showProgress,
    restart: options.restart,
    evaluate: cases
      ? async (ranker) => {
          const result = await evaluatePairwise(ranker, cases);
          return { score: result.accuracy, details: result };
        }
      : undefined,
  });
  const first = training.evaluations[0]?.evaluation.details;
  const last = training.evaluations.at(-1)?.evaluation.details;
  return {
    training,
    before: first && { ...first, model: `${options.base} (before)` },
    after: last && { ...last, model: `${options.config.outputDir} (after)` },
  };
}

/** Mean loss over the last tenth of the steps: the end of a run, smoothed over batches. */
export function finalLoss(losses: readonly number[]): number {
  const tail = losses.slice(-Math.max(1, Math.ceil(losses.length / 10)));
  return tail.reduce((a, b) => a + b, 0) / Math.max(tail.length, 1);
}
