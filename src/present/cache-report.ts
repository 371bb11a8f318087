import type { Calibration, ThresholdPoint } from '../cache/calibrate.js';
import type { SimulationResult, SweepRow } from '../cache/simulate.js';
import type { CacheCounters, StoreMeta } from '../cache/store.js';
import { table } from './table.js';
import { ellipsis } from './text.js';

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

export function sweepJson(rows: readonly SweepRow[]) {
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

export function pointJson(p: ThresholdPoint) {
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

/** `cache simulate --json`: the summary's headline numbers and each query's outcome. */
export function simulationJson(result: SimulationResult) {
  const s = result.summary;
  return {
    hits: s.hits,
    misses: s.misses,
    hit_precision: jsonNumber(s.hitPrecision),
    miss_precision: jsonNumber(s.missPrecision),
    accuracy: s.accuracy,
    queries: result.rows.map((r) => ({ query: r.query, hit: r.hit, matched: r.matched, score: r.score })),
  };
}

/** `cache stats`: the store's counters as one table row, then its encoder. */
export function formatCacheStats(entries: number, counters: CacheCounters, hitRate: number, meta: StoreMeta | null): string {
  return `${table(['entries', 'hits', 'misses', 'hit rate', 'stores', 'evictions', 'expirations', 'invalidations'], [
    [entries, counters.hits, counters.misses, percent(hitRate), counters.stores, counters.evictions, counters.expirations, counters.invalidations],
  ])}\nencoder: ${meta ? `${meta.encoder} (${meta.dimension}-d)` : 'none yet'}`;
}
