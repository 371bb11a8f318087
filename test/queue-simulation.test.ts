import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { percentile, summarizeLatencies } from '../src/eval/latency.js';
import { parseServiceTimes, simulateLevels, simulateQueue, theoreticalMeanWaitMs } from '../src/eval/queue-simulation.js';
import { SeededRandom } from '../src/models/random.js';
import { ok, rankwise } from './helpers/cli.js';
import { scratchDir } from './helpers/fixtures.js';

/** Mean wait over independent runs and its standard error (runs are independent; waits within a run are not). */
function meanWaitOverRuns(samples: number[], qps: number, runs: number, requests: number): { mean: number; se: number } {
  const means: number[] = [];
  for (let seed = 0; seed < runs; seed++) means.push(simulateQueue(samples, { qps, requests, arrivals: 'poisson', seed: 1000 + seed }).meanWaitMs);
  const mean = means.reduce((a, b) => a + b, 0) / runs;
  const variance = means.reduce((a, b) => a + (b - mean) ** 2, 0) / (runs - 1);
  return { mean, se: Math.sqrt(variance / runs) };
}

describe('percentiles', { timeout: 30_000 }, () => {
  it('are nearest-rank: 1..100 gives p50 = 50, p95 = 95, p99 = 99, p99.9 = max', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    const s = summarizeLatencies(samples);
    assert.deepEqual([s.p50, s.p95, s.p99, s.p999, s.max], [50, 95, 99, 100, 100]);
    assert.equal(s.mean, 50.5);
    assert.equal(percentile([3, 7], 50), 3);
    assert.equal(percentile([3, 7], 51), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile([1], 101), /p must be a number from 0 to 100/);
    assert.throws(() => summarizeLatencies([1, -2]), /samples\[1\]/);
  });
});

describe('queue simulation against queueing theory', { timeout: 30_000 }, () => {
  it('M/D/1: Poisson arrivals, deterministic service: mean wait = rho / (2 mu (1 - rho)) within 4 standard errors', () => {
    const service = 10; // ms, so mu = 0.1 per ms
    for (const qps of [30, 60]) {
      const rho = (qps / 1000) * service;
      const theory = rho / (2 * (1 / service) * (1 - rho));
      assert.ok(Math.abs(theoreticalMeanWaitMs([service], qps) - theory) < 1e-12);
      const { mean, se } = meanWaitOverRuns([service], qps, 40, 20_000);
      assert.ok(se < 0.05 * theory, `standard error ${se} too large to test anything`);
      assert.ok(Math.abs(mean - theory) < 4 * se, `rho ${rho}: simulated mean wait ${mean} ms vs M/D/1 ${theory} ms (se ${se})`);
    }
  });

  it('M/M/1: exponential service samples: mean wait = rho / (mu - lambda) within 4 standard errors', () => {
    const rng = new SeededRandom(5);
    const meanService = 10;
    const samples = Array.from({ length: 100_000 }, () => -Math.log(1 - rng.next()) * meanService);
    const qps = 50;
    const lambda = qps / 1000;
    const mu = 1 / meanService;
    const closedForm = (lambda / mu) / (mu - lambda);
    // The simulation draws from the empirical distribution; its exact theory uses the samples' own moments.
    const theory = theoreticalMeanWaitMs(samples, qps);
    assert.ok(Math.abs(theory - closedForm) / closedForm < 0.03, `empirical moments give ${theory}, closed form ${closedForm}`);
    const { mean, se } = meanWaitOverRuns(samples, qps, 40, 20_000);
    assert.ok(se < 0.05 * theory, `standard error ${se} too large to test anything`);
    assert.ok(Math.abs(mean - theory) < 4 * se, `simulated mean wait ${mean} ms vs M/M/1 ${theory} ms (se ${se})`);
  });

  it('fixed arrivals below capacity: no request waits and response = service time', () => {
    const samples = [4, 8, 12, 19];
    const level = simulateQueue(samples, { qps: 50, requests: 1000, arrivals: 'fixed', seed: 3 });
    assert.equal(level.meanWaitMs, 0);
    assert.equal(level.waitedShare, 0);
    assert.equal(level.response.max, 19);
    assert.equal(level.response.p50 > 0 && samples.includes(level.response.p50), true);
    assert.equal(level.tailExplodes, false);
    assert.ok(Math.abs(level.utilization - 0.05 * 10.75) < 1e-12);
  });

  it('fixed arrivals above capacity: each request adds (service - gap) of queue debt, as the article describes', () => {
    // 45 ms service, one arrival every 1000/30 ms: request i waits i x (45 - 33.33) ms.
    const level = simulateQueue([45], { qps: 30, requests: 1000, arrivals: 'fixed', seed: 1 });
    const debt = 45 - 1000 / 30;
    assert.ok(Math.abs(level.response.p50 - (45 + 499 * debt)) < 1e-6);
    assert.ok(Math.abs(level.response.max - (45 + 999 * debt)) < 1e-6);
    assert.ok(Math.abs(level.meanWaitMs - (debt * 999) / 2) < 1e-6);
    assert.equal(level.tailExplodes, true);
    assert.ok(level.utilization > 1.3);
  });

  it('is reproducible per seed and differs across seeds', () => {
    const samples = [5, 10, 40];
    const a = simulateLevels(samples, [20, 40], { requests: 500, arrivals: 'poisson', seed: 9 });
    const b = simulateLevels(samples, [20, 40], { requests: 500, arrivals: 'poisson', seed: 9 });
    const c = simulateLevels(samples, [20, 40], { requests: 500, arrivals: 'poisson', seed: 10 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('rejects bad options and bad service-time files with the field named', () => {
    assert.throws(() => simulateQueue([1], { qps: 0, requests: 10, arrivals: 'fixed', seed: 1 }), /qps: expected a positive number/);
    assert.throws(() => simulateQueue([1], { qps: 1, requests: 1.5, arrivals: 'fixed', seed: 1 }), /requests: expected a positive integer/);
    assert.throws(() => simulateQueue([], { qps: 1, requests: 1, arrivals: 'fixed', seed: 1 }), /at least one sample/);
    assert.throws(() => parseServiceTimes('12\nabc\n', 'times.txt'), /times\.txt:2: expected a non-negative number of milliseconds, got "abc"/);
    assert.throws(() => parseServiceTimes('[1, -3]', 'times.json'), /times\.json: element 1/);
    assert.throws(() => parseServiceTimes('  ', 'empty.txt'), /no service times/);
    assert.deepEqual(parseServiceTimes('# ms\n20.4\n\n30.8\n', 'x'), [20.4, 30.8]);
    assert.deepEqual(parseServiceTimes('[1, 2.5]', 'x'), [1, 2.5]);
  });
});

describe('rankwise simulate-queue', { timeout: 30_000 }, () => {
  it('prints the levels as JSON from a list, and from a file', async () => {
    const out = JSON.parse(
      await ok('simulate-queue', '--service-ms-list', '20,30,45', '--qps', '5,40', '--arrivals', 'fixed', '--requests', '300', '--seed', '2', '--json'),
    );
    assert.equal(out.levels.length, 2);
    const [low, high] = out.levels;
    assert.deepEqual(Object.keys(low).sort(), ['max', 'mean_wait_ms', 'p50', 'p95', 'p99', 'p999', 'qps', 'utilization'].sort());
    assert.equal(low.qps, 5);
    assert.equal(low.mean_wait_ms, 0);
    assert.ok(Math.abs(low.utilization - (5 * (95 / 3)) / 1000) < 1e-9);
    assert.ok(high.p99 > low.p99);
    const file = join(await scratchDir(), 'times.txt');
    await writeFile(file, '20\n30\n45\n');
    const fromFile = JSON.parse(await ok('simulate-queue', '--service-ms', file, '--qps', '5,40', '--arrivals', 'fixed', '--requests', '300', '--seed', '2', '--json'));
    assert.deepEqual(fromFile, out);
    const text = await ok('simulate-queue', '--service-ms', file, '--qps', '5,40', '--requests', '300');
    assert.match(text, /QPS/);
    assert.match(text, /tail explodes/);
  });

  it('names the bad input', async () => {
    const file = join(await scratchDir(), 'bad.txt');
    await writeFile(file, '20\nfast\n');
    const bad = await rankwise('simulate-queue', '--service-ms', file, '--qps', '5');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.txt:2: expected a non-negative number/);
    const both = await rankwise('simulate-queue', '--qps', '5');
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /--service-ms FILE or --service-ms-list/);
    const qps = await rankwise('simulate-queue', '--service-ms-list', '1,2', '--qps', '5,x');
    assert.notEqual(qps.code, 0);
    assert.match(qps.stderr, /--qps/);
  });
});
