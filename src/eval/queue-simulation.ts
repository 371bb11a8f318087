/**
 * A single-server FIFO queue fed with measured service times: what a reranker's latency becomes at a given request
 * rate once requests have to wait for each other (the source article's QPS simulation).
 */
import { SeededRandom } from '../models/random.js';
import { summarizeLatencies, type LatencySummary } from './latency.js';
import { InputError } from '../errors.js';

export type ArrivalProcess = 'fixed' | 'poisson';
export const ARRIVAL_PROCESSES: readonly ArrivalProcess[] = ['fixed', 'poisson'];

export interface QueueSimulationOptions {
  /** Offered load in requests per second. */
  qps: number;
  /** Requests to simulate (the article uses 1000). */
  requests: number;
  /** `fixed`: one request every 1/qps seconds (the article); `poisson`: exponential gaps with mean 1/qps. */
  arrivals: ArrivalProcess;
  seed: number;
}

export interface QueueLevelResult {
  qps: number;
  arrivals: ArrivalProcess;
  requests: number;
  /** Offered utilisation rho = qps x mean service time; at 1 or above the queue grows without bound. */
  utilization: number;
  /** Response time = queue wait + service, in ms. */
  response: LatencySummary;
  meanWaitMs: number;
  /** Share of requests that waited at all. */
  waitedShare: number;
  /** Saturated (utilisation >= 1) or a tail blown up (response p99 > 10 x the idle service-time p50). */
  tailExplodes: boolean;
}

export function checkServiceTimes(samples: readonly number[], what = 'service times'): void {
  if (samples.length === 0) throw new InputError(`${what}: expected at least one sample`);
  samples.forEach((s, i) => {
    if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) {
      throw new InputError(`${what}[${i}]: expected a non-negative number of milliseconds, got ${JSON.stringify(s)}`);
    }
  });
}

function checkOptions(options: QueueSimulationOptions): void {
  const { qps, requests, arrivals, seed } = options;
  if (!Number.isFinite(qps) || qps <= 0) throw new InputError(`qps: expected a positive number, got ${qps}`);
  if (!Number.isInteger(requests) || requests < 1) throw new InputError(`requests: expected a positive integer, got ${requests}`);
  if (!ARRIVAL_PROCESSES.includes(arrivals)) throw new InputError(`arrivals: expected "fixed" or "poisson", got ${JSON.stringify(arrivals)}`);
  if (!Number.isFinite(seed)) throw new InputError(`seed: expected a number, got ${seed}`);
}

/** Arrival times in ms from 0, one per request. */
export function arrivalTimes(count: number, qps: number, arrivals: ArrivalProcess, rng: SeededRandom): Float64Array {
  const gap = 1000 / qps;
  const times = new Float64Array(count);
  let t = 0;
  for (let i = 0; i < count; i++) {
    if (arrivals === 'fixed') {
      times[i] = i * gap;
    } else {
      // 1 - next() is in (0, 1], so the log is finite.
      t += -Math.log(1 - rng.next()) * gap;
      times[i] = t;
    }
  }
  return times;
}

export interface QueueTrace {
  waits: Float64Array;
  responses: Float64Array;
}

/** Lindley's recursion for one FIFO server: start = max(arrival, previous finish). */
export function runFifoQueue(arrivals: Float64Array, services: Float64Array): QueueTrace {
  if (arrivals.length !== services.length) throw new InputError('runFifoQueue: arrivals and services differ in length');
  const n = arrivals.length;
  const waits = new Float64Array(n);
  const responses = new Float64Array(n);
  let free = 0;
  for (let i = 0; i < n; i++) {
    const start = Math.max(arrivals[i], free);
    free = start + services[i];
    waits[i] = start - arrivals[i];
    responses[i] = free - arrivals[i];
  }
  return { waits, responses };
}

function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

/** One load level: arrivals from the process, service times drawn (seeded, with replacement) from the samples. */
export function simulateQueue(serviceTimesMs: readonly number[], options: QueueSimulationOptions): QueueLevelResult {
  checkServiceTimes(serviceTimesMs);
  checkOptions(options);
  const { qps, requests, arrivals, seed } = options;
  const rng = new SeededRandom(seed);
  const arrivalMs = arrivalTimes(requests, qps, arrivals, rng);
  const services = new Float64Array(requests);
  for (let i = 0; i < requests; i++) services[i] = serviceTimesMs[rng.int(serviceTimesMs.length)];
  const { waits, responses } = runFifoQueue(arrivalMs, services);
  const idle = summarizeLatencies(serviceTimesMs);
  const response = summarizeLatencies(Array.from(responses));
  const utilization = (qps * idle.mean) / 1000;
  let waited = 0;
  for (let i = 0; i < requests; i++) if (waits[i] > 0) waited++;
  return {
    qps,
    arrivals,
    requests,
    utilization,
    response,
    meanWaitMs: mean(waits),
    waitedShare: waited / requests,
    tailExplodes: utilization >= 1 || response.p99 > 10 * idle.p50,
  };
}

/** The article's table: the same samples at each load level, each level with its own seed derived from `seed`. */
export function simulateLevels(
  serviceTimesMs: readonly number[],
  levels: readonly number[],
  options: Omit<QueueSimulationOptions, 'qps'>,
): QueueLevelResult[] {
  if (levels.length === 0) throw new InputError('qps: expected at least one level');
  return levels.map((qps, i) => simulateQueue(serviceTimesMs, { ...options, qps, seed: options.seed + i }));
}

/**
 * Pollaczek-Khinchine mean wait of an M/G/1 queue, W = lambda E[S^2] / (2 (1 - rho)), in ms: the theory the Poisson
 * simulation must reproduce (M/D/1 and M/M/1 are its special cases). Infinite at rho >= 1.
 */
export function theoreticalMeanWaitMs(serviceTimesMs: readonly number[], qps: number): number {
  checkServiceTimes(serviceTimesMs);
  const lambda = qps / 1000;
  const m1 = mean(serviceTimesMs);
  const m2 = mean(serviceTimesMs.map((s) => s * s));
  const rho = lambda * m1;
  return rho >= 1 ? Infinity : (lambda * m2) / (2 * (1 - rho));
}

/** Parses service times from a file's text: one number per line, or a JSON array. `source` names the file in errors. */
export function parseServiceTimes(text: string, source: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new InputError(`${source}: no service times in it (expected one number of milliseconds per line, or a JSON array)`);
  let values: number[];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new InputError(`${source}: not a valid JSON array (${(error as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new InputError(`${source}: expected a JSON array of numbers`);
    parsed.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new InputError(`${source}: element ${i}: expected a non-negative number of milliseconds, got ${JSON.stringify(v)}`);
      }
    });
    values = parsed as number[];
  } else {
    values = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const v = Number(line);
      if (!Number.isFinite(v) || v < 0) throw new InputError(`${source}:${i + 1}: expected a non-negative number of milliseconds, got ${JSON.stringify(line)}`);
      values.push(v);
    });
  }
  if (values.length === 0) throw new InputError(`${source}: no service times in it`);
  return values;
}

export interface SystemLevels {
  name: string;
  levels: QueueLevelResult[];
}
