import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { PairwiseResult } from '../../eval/pairwise.js';
import { formatPairwiseComparison } from '../../present/pairwise-report.js';
import { defaultCacheDir } from '../../models/hub.js';
import { readShippedRecipe, sha256File, shippedModelDir } from '../../models/shipped-model.js';
import { writeShippedModel } from '../../rank/shipped-reranker.js';
import { printJson, positiveInt } from '../options.js';
import { InputError } from '../../errors.js';

const TRAINING_MANIFEST = new URL('../../../datasets/reranker-train/manifest.json', import.meta.url);

/**
 * `rankwise build-default-reranker`: trains the built-in reranker from its recipe (the libtorch engine) into the model
 * cache, then writes the folder that ships in the package (models/default: float16 weights, recipe.json with hashes
 * and fixed-pair scores). The training modules are imported only when the command runs, so no other command loads them.
 */
interface Training {
  /** The trained float32 model folder. */
  dir: string;
  /** False when this machine had already trained the same recipe and it was reused. */
  built: boolean;
  seconds: number;
  steps: number;
  before?: PairwiseResult;
  after?: PairwiseResult;
  /** What recipe.json records as "recipe". */
  recipe: Record<string, unknown>;
}

/**
 * The training side: the recipe's model in float32 (src/train, libtorch), imported only here so that no other command
 * loads the trainer for the built-in model. Built into a work folder named by the recipe and the training data's
 * hashes, so an unchanged recipe is reused unless --force.
 */
async function trainDefaultReranker(options: { force?: boolean; threads?: number; showProgress: boolean }): Promise<Training> {
  const { buildDefaultModel, DEFAULT_MODEL_RECIPE } = await import('../../train/default-reranker.js');
  const data = JSON.parse(await readFile(TRAINING_MANIFEST, 'utf8')) as { files: Record<string, { sha256: string }> };
  const key = createHash('sha256').update(JSON.stringify({ DEFAULT_MODEL_RECIPE, data: data.files })).digest('hex').slice(0, 12);
  const dir = join(defaultCacheDir(), 'rankwise', 'build', `default-${key}`);
  const recipe = { ...DEFAULT_MODEL_RECIPE, data: Object.fromEntries(Object.entries(data.files).map(([f, r]) => [`datasets/reranker-train/${f}`, r.sha256])) };
  if (!options.force && existsSync(join(dir, 'config.json'))) return { dir, built: false, seconds: 0, steps: 0, recipe };
  await rm(dir, { recursive: true, force: true });
  const build = await buildDefaultModel(dir, { threads: options.threads, showProgress: options.showProgress });
  return { dir, built: true, seconds: build.seconds, steps: build.encoder?.steps ?? 0, recipe: { ...recipe, fitted: build.combination, encoderTraining: build.encoder } };
}

export function registerBuildDefaultReranker(program: Command): void {
  program
    .command('build-default-reranker')
    .description('Train the built-in reranker from its recipe and write the shipped folder (models/default: float16 weights, recipe.json)')
    .option('--out <dir>', 'shipped folder to write (default: the package\'s models/default)')
    .option('--from <dir>', 'skip training: ship this already trained float32 model folder')
    .option('--recipe <file>', 'a JSON object to record as recipe.json\'s "recipe" (with --from: how that folder was trained)')
    .option('--force', 'retrain even if this machine has already trained this recipe')
    .option('--threads <n>', 'training threads', positiveInt('--threads'))
    .option('--check', 'write nothing: rebuild into a temporary folder and compare hashes and fixed-pair scores with the shipped recipe.json')
    .option('--json', 'print the result as JSON, no progress')
    .action(async (opts) => {
      const out = resolve(opts.out ?? shippedModelDir('default'));
      let trained: string = opts.from;
      let training: Training | undefined;
      if (trained === undefined) {
        training = await trainDefaultReranker({ force: opts.force, threads: opts.threads, showProgress: !opts.json });
        trained = training.dir;
      }
      const given = opts.recipe === undefined ? {} : await readRecipeOption(opts.recipe);
      // The float32 weights training produced, so that a rebuild can be compared before the float16 rounding.
      const weights = join(trained, 'model.safetensors');
      const recipe = { ...(training?.recipe ?? {}), ...given, ...(existsSync(weights) ? { trainedWeightsSha256: await sha256File(weights) } : {}) };
      if (opts.check) {
        const scratch = await mkdtemp(join(tmpdir(), 'rankwise-check-'));
        try {
          const rebuilt = await writeShippedModel(trained, join(scratch, 'default'), { recipe });
          const shipped = await readShippedRecipe(out);
          const recorded = shipped.files;
          const differing = Object.keys({ ...recorded, ...rebuilt.files }).filter((f) => recorded[f]?.sha256 !== rebuilt.files[f]?.sha256);
          const shippedScores = new Map(shipped.fixedPairs.pairs.map((p) => [`${p.query}\n${p.document}`, p.score]));
          const maxScoreDifference = Math.max(...rebuilt.pairs.map((p) => Math.abs((p.score ?? NaN) - (shippedScores.get(`${p.query}\n${p.document}`) ?? NaN))));
          const same = differing.length === 0;
          if (opts.json) printJson({ out, trained, sameBytes: same, differingFiles: differing, maxScoreDifference });
          else process.stdout.write(same ? `${out}: rebuilt weights are byte-identical\n` : `${out}: differs in ${differing.join(', ')}; largest fixed-pair score difference ${maxScoreDifference.toExponential(2)}\n`);
          if (!same) process.exitCode = 1;
        } finally {
          await rm(scratch, { recursive: true, force: true });
        }
        return;
      }
      const written = await writeShippedModel(trained, out, { recipe });
      const shippedWeights = Object.entries(written.files).filter(([f]) => f.endsWith('.safetensors'));
      if (opts.json) {
        printJson({
          dir: out,
          trained,
          built: training?.built ?? false,
          seconds: training?.seconds ?? 0,
          steps: training?.steps ?? 0,
          accuracyBefore: training?.before?.accuracy ?? null,
          accuracyAfter: training?.after?.accuracy ?? null,
          files: written.files,
          maxRoundingError: written.maxRoundingError,
          fixedPairs: written.pairs.map((p) => p.score),
        });
        return;
      }
      if (training?.built) process.stdout.write(`trained ${trained}: ${training.steps} steps in ${training.seconds.toFixed(1)} s\n`);
      else process.stdout.write(`using the trained model ${trained}${opts.from ? '' : ' (already trained; pass --force to retrain)'}\n`);
      if (training?.before && training.after) process.stdout.write(`\n${formatPairwiseComparison(training.before, training.after)}\n\n`);
      process.stdout.write(`wrote ${out}: ${shippedWeights.map(([f, r]) => `${f} ${(r.bytes / 1e6).toFixed(1)} MB sha256 ${r.sha256}`).join('; ')}\n`);
      process.stdout.write(`float16 rounding: at most ${written.maxRoundingError.toExponential(2)}; ${written.pairs.length} fixed pairs scored into recipe.json\n`);
    });
}

async function readRecipeOption(file: string): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputError(`--recipe: cannot read ${file} as JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(`--recipe: ${file} must hold a JSON object`);
  return value as Record<string, unknown>;
}
