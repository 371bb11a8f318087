import type { Command } from 'commander';
import { comparePairwise, readPairwiseCases } from '../../eval/pairwise.js';
import { formatTrainingLines } from '../../present/loss-table.js';
import { formatPairwiseComparison, pairwiseSummaryJson } from '../../present/pairwise-report.js';
import { logitToSimilarity, teacherLogits } from '../../train/distill.js';
import { CosineSimilarityLoss, createLoss, describeLosses, lossNames, type LossName, type LossTarget, type RegisteredLoss } from '../../train/losses/index.js';
import { fineTune, finalLoss } from '../../train/fine-tune.js';
import { resolveTrainingConfig } from '../../train/training-config.js';
import { createProgress } from '../../util/progress.js';
import { loadRankerForCommand } from '../load-models.js';
import { readJsonLines, type JsonLine } from '../../util/jsonl.js';
import { intAtLeast, nonNegativeInt, nonNegativeNumber, oneOf, positiveInt, positiveNumber, printJson } from '../options.js';
import { InputError } from '../../errors.js';

/** The losses that learn a teacher's scores, which `--teacher` can fill in. */
const TEACHER_LOSSES = describeLosses().filter((l) => l.learnsFrom === 'teacher scores').map((l) => l.name);

/** `--loss` with the registry's losses for `target` as choices; the first is the default. */
function lossOption(command: Command, target: LossTarget): Command {
  const names = lossNames(target);
  const help = describeLosses(target).map((l) => `${l.name} (${l.learnsFrom})`).join(', ');
  return command.option('--loss <loss>', help, oneOf('--loss', names), names[0]);
}

/** The options every training command shares: the TrainingConfig fields plus evaluation and output. */
function trainingOptions(command: Command): Command {
  return command
    .requiredOption('--train <file>', 'training data, JSON Lines')
    .requiredOption('--out <dir>', 'where the trained model folder is written')
    .option('--eval <file>', 'pairwise cases {"query","relevant","distractor","split"} scored before and after')
    .option('--epochs <n>', 'passes over the data', positiveInt('--epochs'), 1)
    .option('--batch-size <n>', 'examples per step', positiveInt('--batch-size'), 16)
    .option('--lr <x>', 'peak learning rate', positiveNumber('--lr'), 2e-5)
    .option('--warmup-ratio <x>', 'share of steps warming up', nonNegativeNumber('--warmup-ratio'), 0.1)
    .option('--weight-decay <x>', 'AdamW weight decay', nonNegativeNumber('--weight-decay'), 0.01)
    .option('--max-length <n>', 'longest input in tokens', intAtLeast('--max-length', 4), 256)
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'), 42)
    .option('--eval-steps <n>', 'evaluate every n steps (0: before and after only)', nonNegativeInt('--eval-steps'), 0)
    .option('--checkpoint-steps <n>', 'checkpoint every n steps (0: every epoch)', nonNegativeInt('--checkpoint-steps'), 0)
    .option('--threads <n>', 'training threads', positiveInt('--threads'))
    .option('--restart', 'ignore a checkpoint left by an interrupted run')
    .option('--json', 'print the result as JSON, no progress bar');
}

interface TrainingCliOptions {
  train: string;
  out: string;
  eval?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  warmupRatio: number;
  weightDecay: number;
  maxLength: number;
  seed: number;
  evalSteps: number;
  checkpointSteps: number;
  threads?: number;
  restart?: boolean;
  json?: boolean;
}

export function registerTrain(program: Command): void {
  const trainCommand = program.command('train').description('Fine-tune a cross-encoder or a bi-encoder (libtorch engine)');

  trainingOptions(
    lossOption(
      trainCommand
        .command('cross-encoder')
        .description(formatTrainingLines(describeLosses('cross-encoder')))
        .requiredOption('--base <model>', 'model folder or hub id to start from (a plain encoder gets a new classifier head)'),
      'cross-encoder',
    ).option('--teacher <model>', `${TEACHER_LOSSES.join(', ')}: a cross-encoder that scores lines without a "score"`),
  ).action(async (opts: TrainingCliOptions & { base: string; loss: LossName; teacher?: string }) => {
    const loss = createLoss(opts.loss, '--loss');
    let lines = await readJsonLines(opts.train, '--train');
    if (opts.teacher) {
      if (loss.learnsFrom !== 'teacher scores') throw new InputError(`--teacher: only the ${TEACHER_LOSSES.join(', ')} loss learns from a teacher`);
      lines = await withTeacherScores(lines, opts.train, opts.teacher, opts.json, (logit) => logit);
    }
    await runTraining(opts, opts.base, 'cross-encoder', loss, lines);
  });

  trainingOptions(
    lossOption(trainCommand.command('bi-encoder').description(formatTrainingLines(describeLosses('bi-encoder'))).requiredOption('--base <model>', 'model folder or hub id to start from'), 'bi-encoder'),
  ).action(async (opts: TrainingCliOptions & { base: string; loss: LossName }) => {
    const loss = createLoss(opts.loss, '--loss');
    await runTraining(opts, opts.base, 'bi-encoder', loss, await readJsonLines(opts.train, '--train'));
  });

  trainingOptions(
    program
      .command('distill')
      .description('Distil a cross-encoder teacher into a bi-encoder student. Lines: {"query","document"}')
      .requiredOption('--teacher <model>', 'the cross-encoder (or probability-scoring model such as "default") whose scores the student learns')
      .requiredOption('--student <model>', 'the bi-encoder (or plain encoder) to train'),
  ).action(async (opts: TrainingCliOptions & { teacher: string; student: string }) => {
    const lines = await withTeacherScores(await readJsonLines(opts.train, '--train'), opts.train, opts.teacher, opts.json, logitToSimilarity);
    await runTraining(opts, opts.student, 'bi-encoder', new CosineSimilarityLoss(), lines);
  });
}

type Lines = JsonLine[];

/** Fills each line's "score" with the teacher's judgement of its (query, document) pair. */
async function withTeacherScores(lines: Lines, file: string, teacherModel: string, json: boolean | undefined, map: (logit: number) => number): Promise<Lines> {
  const pairs = lines.map(({ line, value }) => {
    if (typeof value.query !== 'string') throw new InputError(`${file}:${line}: field "query" must be a string`);
    if (typeof value.document !== 'string') throw new InputError(`${file}:${line}: field "document" must be a string`);
    return [value.query, value.document] as const;
  });
  const teacher = await loadRankerForCommand(teacherModel, { quiet: json });
  const progress = createProgress({ total: pairs.length, label: 'teacher scoring', enabled: !json });
  let reported = 0;
  const logits = await teacherLogits(teacher, pairs, {
    onProgress: (done) => {
      progress.tick(done - reported);
      reported = done;
    },
  });
  progress.done();
  await teacher.dispose();
  return lines.map(({ line, value }, i) => ({ line, value: { ...value, score: map(logits[i]) } }));
}

async function runTraining(opts: TrainingCliOptions, base: string, target: LossTarget, loss: RegisteredLoss, lines: JsonLine[]): Promise<void> {
  const examples = lines.map(({ line, value }) => loss.parseExample(value, `${opts.train}:${line}`));
  const config = resolveTrainingConfig({
    outputDir: opts.out,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    learningRate: opts.lr,
    warmupRatio: opts.warmupRatio,
    weightDecay: opts.weightDecay,
    maxLength: opts.maxLength,
    seed: opts.seed,
    evaluationSteps: opts.evalSteps,
    checkpointSteps: opts.checkpointSteps,
    threads: opts.threads,
  });
  const { training, before, after } = await fineTune({
    base,
    target,
    loss,
    examples,
    config,
    evalCases: opts.eval ? await readPairwiseCases(opts.eval) : undefined,
    showProgress: !opts.json,
    restart: opts.restart,
  });
  const last = finalLoss(training.losses);
  if (opts.json) {
    printJson({
      output: training.outputDir,
      loss: loss.name,
      steps: training.steps,
      epochs: training.epochs,
      seconds: training.seconds,
      resumed_from_step: training.resumedFromStep,
      first_loss: training.losses[0],
      final_loss: last,
      ...(before && after ? { before: pairwiseSummaryJson(before), after: pairwiseSummaryJson(after), comparison: comparePairwise(before, after) } : {}),
    });
    return;
  }
  const out: string[] = [
    `trained ${target} from ${base} with ${loss.name}: ${training.steps} steps (${training.epochs} epochs) in ${training.seconds.toFixed(1)} s` +
      (training.resumedFromStep ? `, resumed from step ${training.resumedFromStep}` : ''),
    `loss: first step ${training.losses[0]?.toFixed(4) ?? 'n/a'}, last 10% of steps ${last.toFixed(4)}`,
    `wrote ${training.outputDir} (config.json, tokenizer, model.safetensors, onnx/model.onnx, onnx/model_quantized.onnx)`,
  ];
  if (before && after) out.push('', formatPairwiseComparison(before, after));
  process.stdout.write(out.join('\n') + '\n');
}
