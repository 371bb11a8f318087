/** Service-time samples and their percentiles: the raw material for tail-latency analysis and queue simulation. */
import { InputError } from '../errors.js';

/**
 * Nearest-rank percentile of an ascending list: the smallest sample with at least p% of the samples at or below it.
 * Nearest-rank rather than interpolation so that every reported latency is one that was actually observed (p99.9
 * of 100 samples is the maximum, as in the source article's tables).
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new InputError(`percentile: p must be a number from 0 to 100, got ${p}`);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** The percentiles the article reports, plus the mean, all in the samples' unit (milliseconds here). */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarizeLatencies(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) throw new InputError('summarizeLatencies: no samples');
  samples.forEach((s, i) => {
    if (!Number.isFinite(s) || s < 0) throw new InputError(`summarizeLatencies: samples[${i}] must be a non-negative number, got ${s}`);
  });
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted[sorted.length - 1],
  };
}

export interface CollectOptions {
  /** Timed calls (at least 1). */
  samples: number;
  /** Untimed calls first, so that JIT compilation and first-touch allocation are not counted (default 3). */
  warmup?: number;
  onSample?: (done: number) => void;
}

/**
 * Wall-clock service time of `call(i)` for i = 0..samples-1, in milliseconds, one call at a time (no overlap, so each
 * sample is the time one request holds the server).
 */
export async function collectServiceTimes(call: (i: number) => Promise<unknown>, options: CollectOptions): Promise<number[]> {
  const { samples } = options;
  const warmup = options.warmup ?? 3;
  if (!Number.isInteger(samples) || samples < 1) throw new InputError(`samples: expected a positive integer, got ${samples}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new InputError(`warmup: expected a non-negative integer, got ${warmup}`);
  for (let i = 0; i < warmup; i++) await call(i);
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await call(i);
    times.push(performance.now() - start);
    options.onSample?.(i + 1);
  }
  return times;
}

export interface NamedSummary {
  name: string;
  summary: LatencySummary;
}
