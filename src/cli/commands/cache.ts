import { InvalidArgumentError, type Command } from 'commander';
import { calibrateThreshold, parseLabelledPair, scorePairs, sweepThresholds, type Calibration, type CalibrationObjective, type ThresholdPoint } from '../../cache/calibrate.js';
import { RedisCacheStore } from '../../cache/redis-store.js';
import { DEFAULT_CACHE_THRESHOLD } from '../../cache/semantic-cache.js';
import { parseSimulationQueries, simulateCache, sweepSimulation, type SimulationResult, type SweepRow } from '../../cache/simulate.js';
import { SqliteCacheStore } from '../../cache/sqlite-store.js';
import type { CacheStore } from '../../cache/store.js';
import { CrossEncoderVerifier } from '../../cache/verifier.js';
import { DEFAULT_ENCODER, loadSentenceEncoder } from '../../models/load-encoder.js';
import { ellipsis, table } from '../format.js';
import { readJsonLines } from '../input.js';
import { fraction as fractionOption, oneOf, printJson } from '../options.js';

/** Thresholds of the sweep tables: where cosine paraphrase scores of USE Lite live. */
export const SWEEP_THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

function unitInterval(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < -1 || n > 1) throw new InvalidArgumentError(`${name} expects a number from -1 to 1, got "${value}"`);
    return n;
  };
}

const percent = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(0)}%`);
const fraction = (part: number, whole: number) => `${part} / ${whole} (${percent(whole > 0 ? part / whole : NaN)})`;
/** NaN (no hits, no misses) is not JSON; null says "undefined here". */
const jsonNumber = (x: number) => (Number.isNaN(x) ? null : x);

/** The article's per-query table and summary. */
export function formatSimulation(result: SimulationResult): string {
  const rows = result.rows.map((r) => [
    r.line,
    r.hit ? 'HIT' : 'MISS',
    r.correct ? '' : 'wrong',
    r.timeMs.toFixed(1),
    ellipsis(r.query, 60),
    r.hit ? `-> #${String(r.matched).padStart(2, '0')} (${r.score!.toFixed(2)})` : r.veto ? `vetoed (${r.veto})` : r.score === null ? '-' : `best ${r.score.toFixed(2)}`,
  ]);
  const s = result.summary;
  const summary = [
    `Threshold ${result.threshold} (${result.verifier}), strategy ${result.strategy}`,
    `Total queries: ${s.total}`,
    `Cache hits: ${s.hits} (expected ${s.expectedHits})`,
    `Cache misses: ${s.misses} (expected ${s.expectedMisses})`,
    `HIT precision: ${fraction(s.correctHits, s.hits)}`,
    `MISS precision: ${fraction(s.correctMisses, s.misses)}`,
    `Overall accuracy: ${fraction(s.correctHits + s.correctMisses, s.total)}`,
    `Near misses that hit: ${s.nearMissHits} of ${s.nearMisses}; paraphrases that missed: ${s.missedRepeats}`,
    `Without caching: ${s.total} pipeline runs. With caching: ${s.misses}. ${percent(s.workSaved)} saved.`,
  ];
  return `${table(['#', 'Result', 'Check', 'Time ms', 'Query', 'Matched'], rows)}\n\n${summary.join('\n')}`;
}

export function formatSweep(rows: readonly SweepRow[]): string {
  return table(
    ['threshold', 'hits', 'correct hits', 'wrong hits', 'near-miss hits', 'missed paraphrases', 'hit precision', 'accuracy', 'work saved'],
    rows.map((r) => [r.threshold.toFixed(2), r.hits, r.correctHits, r.wrongHits, r.nearMissHits, r.missedRepeats, percent(r.hitPrecision), percent(r.accuracy), percent(r.workSaved)]),
  );
}

export function formatThresholdPoints(points: readonly ThresholdPoint[]): string {
  return table(
    ['threshold', 'predicted dup', 'true dup', 'wrong hits', 'missed dup', 'precision', 'recall', 'F1'],
    points.map((p) => [p.threshold.toFixed(3), p.predicted, p.truePositives, p.falsePositives, p.falseNegatives, percent(p.precision), percent(p.recall), p.f1.toFixed(3)]),
  );
}

export function formatCalibration(c: Calibration, pairs: number, model: string): string {
  return [
    `Calibrated on ${pairs} labelled pairs with ${model} (cosine verifier + guards), objective: ${c.description}`,
    `Threshold: ${c.threshold.toFixed(4)}`,
    `Precision: ${fraction(c.truePositives, c.predicted)}`,
    `Recall: ${fraction(c.truePositives, c.truePositives + c.falseNegatives)}`,
    `F1: ${c.f1.toFixed(3)}`,
  ].join('\n');
}

function sweepJson(rows: readonly SweepRow[]) {
  return rows.map((r) => ({
    threshold: r.threshold,
    hits: r.hits,
    correct_hits: r.correctHits,
    wrong_hits: r.wrongHits,
    near_miss_hits: r.nearMissHits,
    missed_paraphrases: r.missedRepeats,
    hit_precision: jsonNumber(r.hitPrecision),
    accuracy: r.accuracy,
    work_saved: r.workSaved,
  }));
}

function pointJson(p: ThresholdPoint) {
  return {
    threshold: p.threshold,
    predicted: p.predicted,
    true_positives: p.truePositives,
    false_positives: p.falsePositives,
    false_negatives: p.falseNegatives,
    precision: jsonNumber(p.precision),
    recall: jsonNumber(p.recall),
    f1: p.f1,
  };
}

/** An existing cache: reading statistics must not leave an empty cache file behind a mistyped --db path. */
async function openStore(opts: { db?: string; redis?: string; prefix?: string }): Promise<CacheStore> {
  if (!opts.db === !opts.redis) throw new Error('give the cache with either --db FILE or --redis URL');
  if (opts.db) {
    try {
      return await SqliteCacheStore.open(opts.db, { mustExist: true });
    } catch (error) {
      throw new Error(`--db ${(error as Error).message}`);
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
      if (opts.verifier && opts.threshold === undefined) throw new Error('--verifier: give --threshold too; the default threshold is calibrated for the cosine verifier');
      const encoder = await loadSentenceEncoder(opts.model);
      const verifier = opts.verifier ? await CrossEncoderVerifier.load(opts.verifier) : undefined;
      try {
        const options = { encoder, threshold: opts.threshold, strategy: opts.strategy, verifier };
        const result = await simulateCache(queries, options);
        if (opts.json) {
          const s = result.summary;
          printJson({
            hits: s.hits,
            misses: s.misses,
            hit_precision: jsonNumber(s.hitPrecision),
            miss_precision: jsonNumber(s.missPrecision),
            accuracy: s.accuracy,
            queries: result.rows.map((r) => ({ query: r.query, hit: r.hit, matched: r.matched, score: r.score })),
          });
          return;
        }
        process.stdout.write(`${formatSimulation(result)}\n`);
        if (opts.sweep) process.stdout.write(`\nThreshold sweep:\n${formatSweep(await sweepSimulation(queries, SWEEP_THRESHOLDS, options))}\n`);
      } finally {
        await verifier?.dispose();
        await encoder.dispose?.();
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
          throw new Error(`${opts.pairs}:${line}: ${(error as Error).message}`);
        }
      });
      if (pairs.length === 0) throw new Error(`--pairs ${opts.pairs}: no pairs in it`);
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
        await encoder.dispose?.();
      }
    });

  cache
    .command('stats')
    .description('Entries and hit/miss counters of a cache (SQLite file or Redis)')
    .option('--db <file>', 'SQLite cache file')
    .option('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379')
    .option('--prefix <prefix>', 'Redis key prefix', 'rankwise:cache')
    .option('--json', 'print {"entries","hits","misses","hit_rate","stores","evictions","expirations","invalidations"}')
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
        process.stdout.write(
          `${table(['entries', 'hits', 'misses', 'hit rate', 'stores', 'evictions', 'expirations', 'invalidations'], [
            [entries, counters.hits, counters.misses, percent(stats.hit_rate), counters.stores, counters.evictions, counters.expirations, counters.invalidations],
          ])}\nencoder: ${meta ? `${meta.encoder} (${meta.dimension}-d)` : 'none yet'}\n`,
        );
      } finally {
        await store.close();
      }
    });
}
