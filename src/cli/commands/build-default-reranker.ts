import type { Command } from 'commander';
import { formatPairwiseComparison } from '../../eval/pairwise.js';
import { ensureDefaultReranker } from '../../train/default-reranker.js';
import { printJson, positiveInt } from '../options.js';

export function registerBuildDefaultReranker(program: Command): void {
  program
    .command('build-default-reranker')
    .description('Train the built-in reranker (USE Lite cross-encoder, BCE on datasets/reranker/) into the model cache')
    .option('--out <dir>', 'write here instead of the model cache')
    .option('--force', 'rebuild even if this machine has already built it')
    .option('--threads <n>', 'training threads', positiveInt('--threads'))
    .option('--json', 'print the result as JSON, no progress')
    .action(async (opts) => {
      const build = await ensureDefaultReranker({ outputDir: opts.out, force: opts.force, threads: opts.threads, showProgress: !opts.json });
      if (opts.json) {
        printJson({
          dir: build.dir,
          built: build.built,
          seconds: build.seconds,
          steps: build.steps,
          accuracyBefore: build.before?.accuracy ?? null,
          accuracyAfter: build.after?.accuracy ?? null,
        });
        return;
      }
      if (!build.built) {
        process.stdout.write(`already built: ${build.dir} (pass --force to rebuild)\n`);
        return;
      }
      process.stdout.write(`built ${build.dir}: ${build.steps} steps in ${build.seconds.toFixed(1)} s\n\n`);
      if (build.before && build.after) process.stdout.write(`${formatPairwiseComparison(build.before, build.after)}\n`);
    });
}
