import { mkdir } from 'node:fs/promises';
import { describeValue } from '../../util/describe.js';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_ENCODER, loadSentenceEncoder } from '../../models/load-encoder.js';
import type { SentenceEncoder } from '../../models/sentence-encoder.js';
import type { Ranker } from '../../rank/results.js';
import { readCorpus } from '../../retrieve/corpus.js';
import { MINING_FORMATS, MINING_RETRIEVERS, MINING_SAMPLING, mineHardNegatives, type MiningPair, type MiningStats } from '../../train/mine-hard-negatives.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { exists } from '../../util/fs.js';
import { readJsonLines } from '../../util/jsonl.js';
import { createProgress } from '../../util/progress.js';
import { formatMiningStats, miningStatsJson } from '../../present/mining-report.js';
import { loadRankerForCommand } from '../load-models.js';
import { finiteNumber, fraction, nonNegativeInt, nonNegativeNumber, oneOf, positiveInt, printJson } from '../options.js';
import { InputError } from '../../errors.js';

/**
 * `{"query","positive"}` or `{"query","positive_id"}` (both: the id, and the text it must have) per line, with the
 * line number of each pair.
 */
export async function readMiningPairs(file: string): Promise<{ pairs: MiningPair[]; lines: number[] }> {
  const rows = await readJsonLines(file, '--pairs');
  const pairs = rows.map(({ line, value }): MiningPair => {
    const where = `${file}:${line}`;
    const { query, positive, positive_id: id } = value;
    if (typeof query !== 'string' || query.trim() === '') throw new InputError(`${where}: "query": expected a non-empty string, got ${describeValue(query)}`);
    if (positive !== undefined && (typeof positive !== 'string' || positive.trim() === '')) {
      throw new InputError(`${where}: "positive": expected a non-empty string, got ${describeValue(positive)}`);
    }
    if (id === undefined) {
      if (positive === undefined) throw new InputError(`${where}: expected "positive" (the text) or "positive_id" (a corpus id)`);
      return { query, positive: positive as string };
    }
    if ((typeof id !== 'string' || id === '') && !(typeof id === 'number' && Number.isFinite(id))) {
      throw new InputError(`${where}: "positive_id": expected a non-empty string or a number, got ${describeValue(id)}`);
    }
    return { query, positive: positive === undefined ? { id: String(id) } : { id: String(id), text: positive as string } };
  });
  if (pairs.length === 0) throw new InputError(`--pairs ${file}: no pairs in it`);
  return { pairs, lines: rows.map((r) => r.line) };
}

/** The library names a pair by its index (`pairs[3].positive.id: ...`); the user wants the file and line. */
function atLine(error: unknown, file: string, lines: readonly number[]): unknown {
  const match = error instanceof Error ? /^pairs\[(\d+)\](?:\.(\w+))?(?:\.(\w+))?: (.*)$/s.exec(error.message) : null;
  if (!match) return error;
  const [, index, field, sub, rest] = match;
  const name = field === 'positive' && sub === 'id' ? 'positive_id' : field;
  return new InputError(`${file}:${lines[Number(index)]}: ${name ? `"${name}": ` : ''}${rest}`);
}

export function registerMine(program: Command): void {
  program
    .command('mine')
    .description('Mine hard negatives for (query, positive) pairs from a corpus, as training data (sentence-transformers\' mine_hard_negatives)')
    .requiredOption('--pairs <file>', 'JSONL, one {"query","positive"} or {"query","positive_id"} per line')
    .requiredOption('--corpus <file>', 'JSONL, one {"id","text", ...} or BEIR {"_id","title","text"} per line')
    .requiredOption('--out <file>', 'JSONL to write (atomically)')
    .option('--retriever <kind>', MINING_RETRIEVERS.join(', '), oneOf('--retriever', MINING_RETRIEVERS), 'bm25')
    .option('--model <model>', `sentence encoder for vector and hybrid (default ${DEFAULT_ENCODER})`)
    .option('--range-min <n>', 'skip the first n candidates', nonNegativeInt('--range-min'), 0)
    .option('--range-max <n>', 'consider the first n candidates (positives excluded)', positiveInt('--range-max'), 100)
    .option('--num-negatives <n>', 'negatives per pair', positiveInt('--num-negatives'), 3)
    .option('--margin <x>', 'drop candidates scoring above positive - x', nonNegativeNumber('--margin'))
    .option('--relative-margin <x>', 'drop candidates scoring above positive - |positive| * x', fraction('--relative-margin'))
    .option('--max-score <x>', 'drop candidates scoring above x', finiteNumber('--max-score'))
    .option('--sampling <strategy>', 'top (the hardest) or random (seeded)', oneOf('--sampling', MINING_SAMPLING), 'top')
    .option('--seed <n>', 'seed for --sampling random', nonNegativeInt('--seed'), 42)
    .option('--format <format>', `${MINING_FORMATS.join(', ')} (labeled-pair is what "train cross-encoder --loss bce" reads)`, oneOf('--format', MINING_FORMATS), 'triplet')
    .option('--scores', 'add scores to each line ("scores", or "score" in labeled pairs)')
    .option('--scorer <model>', 'rescore candidates with this model (e.g. a cross-encoder, or "default"): margins and --max-score then use its scores')
    .option('--dtype <dtype>', 'fp32 or int8, for --scorer', oneOf('--dtype', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'inference threads', positiveInt('--threads'))
    .option('--json', 'print the statistics as JSON, no progress bar')
    .action(async (opts) => {
      const { pairs, lines } = await readMiningPairs(opts.pairs);
      const corpus = await readCorpus(opts.corpus);
      let encoder: SentenceEncoder | undefined;
      let scorer: Ranker | undefined;
      try {
        if (opts.retriever !== 'bm25') {
          const model: string = opts.model ?? DEFAULT_ENCODER;
          encoder = await loadSentenceEncoder((await exists(model)) ? resolve(model) : model, { threads: opts.threads });
        } else if (opts.model !== undefined) {
          throw new InputError('--model: only --retriever vector or hybrid uses a sentence encoder');
        }
        if (opts.scorer !== undefined) scorer = await loadRankerForCommand(opts.scorer, { dtype: opts.dtype, threads: opts.threads, quiet: opts.json });
        const progress = createProgress({ total: pairs.length, label: 'mining', enabled: !opts.json });
        let reported = 0;
        const { records, stats } = await mineHardNegatives(pairs, corpus, {
          retriever: opts.retriever,
          encoder,
          scorer,
          rangeMin: opts.rangeMin,
          rangeMax: opts.rangeMax,
          numNegatives: opts.numNegatives,
          margin: opts.margin,
          relativeMargin: opts.relativeMargin,
          maxScore: opts.maxScore,
          samplingStrategy: opts.sampling,
          seed: opts.seed,
          format: opts.format,
          outputScores: opts.scores === true,
          onProgress: (done) => {
            progress.tick(done - reported);
            reported = done;
          },
        }).catch((error: unknown) => {
          throw atLine(error, opts.pairs, lines);
        });
        progress.done();
        await mkdir(dirname(resolve(opts.out)), { recursive: true });
        await writeFileAtomic(opts.out, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
        if (opts.json) printJson(miningStatsJson(stats, opts.out, opts.format));
        else process.stdout.write(formatMiningStats(stats, opts.out, opts.format, opts.numNegatives));
      } finally {
        await scorer?.dispose();
        await encoder?.dispose();
      }
    });
}
