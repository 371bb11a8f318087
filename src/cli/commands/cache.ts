import { InvalidArgumentError, type Command } from 'commander';
import { calibrateThreshold, parseLabelledPair, scorePairs, sweepThresholds, type Calibration, type CalibrationObjective, type ThresholdPoint } from '../../cache/calibrate.js';
import { RedisCacheStore } from '../../cache/redis-store.js';
import { DEFAULT_CACHE_THRESHOLD } from '../../cache/semantic-cache.js';
import { parseSimulationQueries, simulateCache, sweepSimulation, type SimulationResult, type SweepRow } from '../../cache/simulate.js';
import { SqliteCacheStore } from '../../cache/sqlite-store.js';
import type { CacheStore } from '../../cache/store.js';
import { CrossEncoderVerifier } from '../../cache/verifier.js';
import { DEFAULT_ENCODER, loadSentenceEncoder } from '../../models/load-encoder.js';
import { formatCacheStats, formatCalibration, formatSimulation, formatSweep, formatThresholdPoints, pointJson, simulationJson, sweepJson } from '../../present/cache-report.js';
import { readJsonLines } from '../input.js';
import { fraction as fractionOption, oneOf, printJson } from '../options.js';
import { InputError, withContext } from '../../errors.js';

/** Thresholds of the sweep tables: where cosine paraphrase scores of USE Lite live. */
export const SWEEP_THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

function unitInterval(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < -1 || n > 1) throw new InvalidArgumentError(`${name} expects a number from -1 to 1, got "${value}"`);
    return n;
  };
}

/** An existing cache: reading statistics must not leave an empty cache file behind a mistyped --db path. */
async function openStore(opts: { db?: string; redis?: string; prefix?: string }): Promise<CacheStore> {
  if (!opts.db === !opts.redis) throw new InputError('give the cache with either --db FILE or --redis URL');
  if (opts.db) {
    try {
      return await SqliteCacheStore.open(opts.db, { mustExist: true });
    } catch (error) {
      throw withContext(error, '--db ');
    }
  }
  return RedisCacheStore.connect(opts.redis!, { prefix: opts.prefix });
}

export function registerCache(program: Command): void {
  const cache = program.command('cache').description('Semantic query cache: simulate it on labelled queries, calibrate its threshold, read its statistics');

  cache
    .command('simulate')
    .description('Run labelled queries through a fresh cache in order and report hits, misses and their precision (the article\'s example 5)')
    .requiredOption('--queries <file>', '.jsonl, one {"query","repeats"} per line (repeats: the earlier line it paraphrases, or null)')
    .option('--model <model>', `sentence encoder: "use-lite" or a bi-encoder folder (default ${DEFAULT_ENCODER})`, DEFAULT_ENCODER)
    .option('--threshold <t>', `hit threshold on the verifier's score (default ${DEFAULT_CACHE_THRESHOLD}, calibrated for use-lite cosine)`, unitInterval('--threshold'))
    .option('--strategy <s>', 'two-step (nearest neighbours, then verify) or scan (verify every entry)', oneOf('--strategy', ['two-step', 'scan'] as const), 'two-step')
    .option('--verifier <model>', 'verify candidates with this cross-encoder instead of the cosine (give --threshold for its scores)')
    .option('--sweep', 'also run every threshold from 0.50 to 0.95 and print how hits trade against wrong hits')
    .option('--json', 'print {"hits","misses","hit_precision","miss_precision","accuracy","queries":[{"query","hit","matched","score"}]}')
    .action(async (opts) => {
      const queries = parseSimulationQueries(await readJsonLines(opts.queries, '--queries'), opts.queries);
      if (opts.verifier && opts.threshold === undefined) throw new InputError('--verifier: give --threshold too; the default threshold is calibrated for the cosine verifier');
      const encoder = await loadSentenceEncoder(opts.model);
      const verifier = opts.verifier ? await CrossEncoderVerifier.load(opts.verifier) : undefined;
      try {
        const options = { encoder, threshold: opts.threshold, strategy: opts.strategy, verifier };
        const result = await simulateCache(queries, options);
        if (opts.json) {
          printJson(simulationJson(result));
          return;
        }
        process.stdout.write(`${formatSimulation(result)}\n`);
        if (opts.sweep) process.stdout.write(`\nThreshold sweep:\n${formatSweep(await sweepSimulation(queries, SWEEP_THRESHOLDS, options))}\n`);
      } finally {
        await verifier?.dispose();
        await encoder.dispose();
      }
    });

  cache
    .command('calibrate')
    .description('Pick the hit threshold from labelled pairs: maximum F1, or the most recall at a precision target')
    .requiredOption('--pairs <file>', '.jsonl, one {"a","b","duplicate":true|false} per line')
    .option('--model <model>', `sentence encoder (default ${DEFAULT_ENCODER})`, DEFAULT_ENCODER)
    .option('--precision-target <p>', 'choose the threshold with the highest recall whose precision is at least p (instead of maximum F1)', fractionOption('--precision-target'))
    .option('--json', 'print {"threshold","objective","precision","recall","f1","pairs","sweep"}')
    .action(async (opts) => {
      const rows = await readJsonLines(opts.pairs, '--pairs');
      const pairs = rows.map(({ line, value }) => {
        try {
          return parseLabelledPair(value);
        } catch (error) {
          throw new InputError(`${opts.pairs}:${line}: ${(error as Error).message}`);
        }
      });
      if (pairs.length === 0) throw new InputError(`--pairs ${opts.pairs}: no pairs in it`);
      const objective: CalibrationObjective = opts.precisionTarget === undefined ? { objective: 'f1' } : { objective: 'precision', target: opts.precisionTarget };
      const encoder = await loadSentenceEncoder(opts.model);
      try {
        const scored = await scorePairs(pairs, encoder);
        const chosen = calibrateThreshold(scored, objective);
        const sweep = sweepThresholds(scored, SWEEP_THRESHOLDS);
        if (opts.json) {
          printJson({ ...pointJson(chosen), objective: chosen.description, pairs: pairs.length, model: encoder.name, sweep: sweep.map(pointJson) });
          return;
        }
        process.stdout.write(`${formatCalibration(chosen, pairs.length, encoder.name)}\n\nThreshold sweep:\n${formatThresholdPoints(sweep)}\n`);
      } finally {
        await encoder.dispose();
      }
    });

  cache
    .command('stats')
    .description('Entries and hit/miss counters of a cache (SQLite file or Redis)')
    .option('--db <file>', 'SQLite cache file')
    .option('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379')
    .option('--prefix <prefix>', 'Redis key prefix', 'rankwise:cache')
    .option('--json', 'print {"entries","hits","misses","hit_rate","stores","evictions","expirations","invalidations","stale"}')
    .action(async (opts) => {
      const store = await openStore(opts);
      try {
        const [counters, entries, meta] = await Promise.all([store.counters(), store.count(Date.now()), store.meta()]);
        const lookups = counters.hits + counters.misses;
        const stats = { entries, ...counters, hit_rate: lookups > 0 ? counters.hits / lookups : 0 };
        if (opts.json) {
          printJson({ ...stats, encoder: meta?.encoder ?? null });
          return;
        }
        process.stdout.write(`${formatCacheStats(entries, counters, stats.hit_rate, meta)}\n`);
      } finally {
        await store.close();
      }
    });
}
