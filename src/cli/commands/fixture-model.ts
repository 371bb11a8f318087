import type { Command } from 'commander';
import { createFixtureModel } from '../../models/fixture.js';
import { nonNegativeInt, oneOf, positiveInt } from '../options.js';

export function registerFixtureModel(program: Command): void {
  program
    .command('fixture-model')
    .description('Write a complete model folder with seeded random weights (for tests and benchmarks)')
    .requiredOption('--out <dir>', 'folder to create')
    .requiredOption('--kind <kind>', 'cross-encoder or bi-encoder', oneOf('--kind', ['cross-encoder', 'bi-encoder'] as const))
    .option('--layers <n>', 'transformer layers', positiveInt('--layers'), 2)
    .option('--hidden <n>', 'hidden size', positiveInt('--hidden'), 64)
    .option('--heads <n>', 'attention heads', positiveInt('--heads'), 4)
    .option('--intermediate <n>', 'feed-forward size', positiveInt('--intermediate'), 128)
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'), 1)
    .option('--force', 'replace the folder if it exists')
    .action(async (opts) => {
      const config = await createFixtureModel(opts.out, {
        kind: opts.kind,
        layers: opts.layers,
        hidden: opts.hidden,
        heads: opts.heads,
        intermediate: opts.intermediate,
        seed: opts.seed,
        overwrite: Boolean(opts.force),
      });
      process.stdout.write(
        `wrote ${opts.out}: ${opts.kind}, ${config.num_hidden_layers} layers, hidden ${config.hidden_size}, ` +
          `${config.num_attention_heads} heads, intermediate ${config.intermediate_size}, seed ${opts.seed}\n`,
      );
    });
}
