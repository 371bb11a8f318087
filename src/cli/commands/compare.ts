import type { Command } from 'commander';
import { compareRankers } from '../../eval/compare.js';
import { loadRankerForCommand } from '../load-models.js';
import type { Ranker } from '../../rank/results.js';
import { table } from '../../present/table.js';
import { readDocuments } from '../input.js';
import { oneOf, positiveInt, printJson } from '../options.js';
import { InputError } from '../../errors.js';

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('Run several models on the same query and documents: time, docs/s, rankings and how far they agree')
    .requiredOption('--models <list>', 'comma-separated models (folders, hub ids, "default", "use-lite")')
    .requiredOption('--query <text>', 'the query')
    .requiredOption('--docs <file>', 'documents: .txt or .jsonl')
    .option('--repeats <n>', 'timed runs per model after one warm-up (median reported)', positiveInt('--repeats'), 3)
    .option('--dtype <dtype>', 'fp32 or int8', oneOf('--dtype', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'inference threads', positiveInt('--threads'))
    .option('--json', 'print the comparison as JSON')
    .action(async (opts) => {
      const names = String(opts.models)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (names.length === 0) throw new InputError('--models: expected at least one model');
      if (opts.query.trim() === '') throw new InputError('--query: expected a non-empty query');
      const documents = (await readDocuments(opts.docs)).map((d) => d.text);
      const rankers: Ranker[] = [];
      for (const name of names) rankers.push(await loadRankerForCommand(name, { dtype: opts.dtype, threads: opts.threads }));
      const comparison = await compareRankers(rankers, opts.query, documents, { repeats: opts.repeats });
      for (const r of rankers) await r.dispose();
      if (opts.json) {
        printJson(comparison);
        return;
      }
      const out = [
        `Query: ${opts.query} (${documents.length} documents; one warm-up, then the median of ${opts.repeats} runs, models one after another)`,
        '',
        table(
          ['model', 'ms', 'docs/s', 'order (original indices, best first)'],
          comparison.models.map((m) => [m.model, m.ms, m.docsPerSecond, m.order.join(' ')]),
        ),
      ];
      if (comparison.agreement.length > 0) {
        const ks = Object.keys(comparison.agreement[0].topOverlap);
        out.push(
          '',
          table(
            ['model A', 'model B', 'kendall tau', ...ks.map((k) => `top-${k} overlap`)],
            comparison.agreement.map((a) => [a.a, a.b, a.kendallTau, ...ks.map((k) => a.topOverlap[Number(k)])]),
          ),
        );
      }
      process.stdout.write(out.join('\n') + '\n');
    });
}
