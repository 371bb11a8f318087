/**
 * Real load next to the simulation: an open-loop generator issues requests at their scheduled arrival times
 * (fixed or Poisson, seeded) into a FIFO queue that one worker drains by calling the real service. Response time
 * is measured from the scheduled arrival, so a late timer or a busy event loop cannot hide queueing delay
 * (no coordinated omission).
 */
import { SeededRandom } from '../models/random.js';
import { summarizeLatencies, type LatencySummary } from './latency.js';
import { arrivalTimes, type ArrivalProcess } from './queue-simulation.js';
import { InputError } from '../errors.js';

export interface LoadTestOptions {
  qps: number;
  requests: number;
  arrivals: ArrivalProcess;
  seed: number;
}

export interface LoadTestResult {
  qps: number;
  arrivals: ArrivalProcess;
  requests: number;
  /** Scheduled arrival to completion, ms. */
  response: LatencySummary;
  /** The service calls alone, ms. */
  service: LatencySummary;
  meanWaitMs: number;
  /** Share of the run the worker was busy. */
  busyShare: number;
}

export async function runLoadTest(service: (request: number) => Promise<unknown>, options: LoadTestOptions): Promise<LoadTestResult> {
  const { qps, requests, arrivals, seed } = options;
  if (!Number.isFinite(qps) || qps <= 0) throw new InputError(`qps: expected a positive number, got ${qps}`);
  if (!Number.isInteger(requests) || requests < 1) throw new InputError(`requests: expected a positive integer, got ${requests}`);
  const schedule = arrivalTimes(requests, qps, arrivals, new SeededRandom(seed));
  const responses: number[] = [];
  const services: number[] = [];
  const waits: number[] = [];
  /** Request number and the time its timer actually fired. */
  const queue: Array<{ request: number; enqueued: number }> = [];
  let busy = false;
  let busyMs = 0;
  let failure: unknown;
  const origin = performance.now();

  return new Promise<LoadTestResult>((resolve, reject) => {
    const finish = () => {
      if (failure !== undefined) {
        reject(failure);
        return;
      }
      const end = performance.now();
      resolve({
        qps,
        arrivals,
        requests,
        response: summarizeLatencies(responses),
        service: summarizeLatencies(services),
        meanWaitMs: waits.reduce((a, b) => a + b, 0) / waits.length,
        busyShare: busyMs / (end - origin),
      });
    };
    const drain = async () => {
      if (busy) return;
      busy = true;
      while (queue.length > 0 && failure === undefined) {
        const { request, enqueued } = queue.shift()!;
        // A late timer must not hide queueing (measure from the schedule); an early one really did arrive early.
        const arrived = Math.min(origin + schedule[request], enqueued);
        const start = performance.now();
        try {
          await service(request);
        } catch (error) {
          failure = error;
        }
        const end = performance.now();
        busyMs += end - start;
        services.push(end - start);
        waits.push(Math.max(0, start - arrived));
        responses.push(end - arrived);
      }
      busy = false;
      if (responses.length === requests || failure !== undefined) finish();
    };
    for (let i = 0; i < requests; i++) {
      setTimeout(() => {
        queue.push({ request: i, enqueued: performance.now() });
        void drain();
      }, Math.max(0, schedule[i]));
    }
  });
}
