/**
 * Profiles one ranking service end to end: service-time samples over a query set, the queue simulation at each
 * load level (fixed and/or Poisson arrivals), and optionally real open-loop load next to the simulated numbers.
 */
import type { Ranker } from '../rank/results.js';
import { LateInteractionRanker } from '../rank/late-interaction/ranker.js';
import { collectServiceTimes, summarizeLatencies, type LatencySummary } from './latency.js';
import { runLoadTest, type LoadTestResult } from './load-test.js';
import { simulateLevels, simulateQueue, type ArrivalProcess, type QueueLevelResult } from './queue-simulation.js';
import { InputError } from '../errors.js';

export interface ProfileOptions {
  samples: number;
  qpsLevels: readonly number[];
  arrivals: readonly ArrivalProcess[];
  /** Simulated requests per level (default 1000). */
  requests?: number;
  seed?: number;
  /**
   * Real load levels to run next to the simulation, with this many requests each; `qps` may be derived from the
   * measured service times (e.g. 50% and 90% of capacity).
   */
  realLoad?: { qps: readonly number[] | ((service: LatencySummary) => number[]); requests: number; arrivals: ArrivalProcess };
  onSample?: (done: number) => void;
}

export interface RealLoadComparison {
  measured: LoadTestResult;
  simulated: QueueLevelResult;
}

export interface ServiceProfile {
  name: string;
  /** One-time document encoding (late interaction only), ms. */
  indexMs: number | null;
  serviceMs: number[];
  service: LatencySummary;
  queues: Array<{ arrivals: ArrivalProcess; levels: QueueLevelResult[] }>;
  realLoad: RealLoadComparison[];
}

export async function profileService(ranker: Ranker, queries: readonly string[], documents: readonly string[], options: ProfileOptions): Promise<ServiceProfile> {
  if (queries.length === 0) throw new InputError('queries: expected at least one query');
  if (documents.length === 0) throw new InputError('documents: expected at least one document');
  const seed = options.seed ?? 1;
  const requests = options.requests ?? 1000;
  const indexMs = ranker instanceof LateInteractionRanker ? await ranker.indexDocuments(documents) : null;
  const call = (i: number) => ranker.rank(queries[i % queries.length], documents, { returnDocuments: false });
  const serviceMs = await collectServiceTimes(call, { samples: options.samples, onSample: options.onSample });
  const queues = options.arrivals.map((arrivals) => ({ arrivals, levels: simulateLevels(serviceMs, options.qpsLevels, { requests, arrivals, seed }) }));
  const realLoad: RealLoadComparison[] = [];
  if (options.realLoad) {
    const { requests: realRequests, arrivals } = options.realLoad;
    const levels = typeof options.realLoad.qps === 'function' ? options.realLoad.qps(summarizeLatencies(serviceMs)) : options.realLoad.qps;
    for (const [i, qps] of levels.entries()) {
      const measured = await runLoadTest(call, { qps, requests: realRequests, arrivals, seed: seed + 100 + i });
      // The same arrival process, with many more requests, so that the simulated percentiles are stable.
      const simulated = simulateQueue(serviceMs, { qps, requests: Math.max(requests, realRequests), arrivals, seed: seed + 100 + i });
      realLoad.push({ measured, simulated });
    }
  }
  return { name: ranker.name, indexMs, serviceMs, service: summarizeLatencies(serviceMs), queues, realLoad };
}
