import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { collectServiceTimes, summarizeLatencies } from '../src/eval/latency.js';
import { runLoadTest } from '../src/eval/load-test.js';
import { simulateLevels } from '../src/eval/queue-simulation.js';
import { latencyReportHtml, writeLatencyReport } from '../src/present/latency-report-svg.js';
import { ok, rankwise } from './helpers/cli.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

/** Holds the (single) thread for `ms`, like a CPU-bound scoring call. */
function busy(ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
  return Promise.resolve();
}

/** A strict well-formedness check for our XHTML/SVG: every tag closed in order, attributes quoted, one root. */
function assertWellFormed(xml: string): void {
  const body = xml.replace(/^<!DOCTYPE html>\s*/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let roots = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    assert.ok(!/[<>]/.test(body.slice(last, m.index)), `stray angle bracket before ${m[0]}`);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name);
    }
  }
  assert.ok(!/[<>]/.test(body.slice(last)), 'stray angle bracket at the end');
  assert.deepEqual(stack, [], `unclosed: ${stack.join(', ')}`);
  assert.equal(roots, 1);
}

describe('service times and real load', { timeout: 30_000 }, () => {
  it('collects one sample per call after the warm-up calls', async () => {
    const calls: number[] = [];
    const times = await collectServiceTimes(async (i) => calls.push(i), { samples: 5, warmup: 2 });
    assert.equal(times.length, 5);
    assert.deepEqual(calls, [0, 1, 0, 1, 2, 3, 4]);
    await assert.rejects(collectServiceTimes(async () => 0, { samples: 0 }), /samples: expected a positive integer/);
  });

  it('an open-loop generator above capacity queues every request behind the previous one (FIFO)', async () => {
    // 8 ms of work per request arriving every 2 ms (500 QPS): the worker never catches up.
    const order: number[] = [];
    const result = await runLoadTest(
      async (i) => {
        order.push(i);
        await busy(8);
      },
      { qps: 500, requests: 12, arrivals: 'fixed', seed: 1 },
    );
    assert.deepEqual(order, Array.from({ length: 12 }, (_, i) => i));
    assert.equal(result.response.count, 12);
    assert.ok(result.service.p50 >= 8);
    // Waits grow by at least (service - gap) per request, so the last response is at least 12 x 8 - 11 x 2 ms.
    assert.ok(result.response.max >= 12 * 8 - 11 * 2, `max response ${result.response.max}`);
    assert.ok(result.meanWaitMs > 0);
    assert.ok(result.busyShare > 0 && result.busyShare <= 1);
  });

  it('a failing service fails the run', async () => {
    await assert.rejects(
      runLoadTest(async () => {
        throw new Error('model crashed');
      }, { qps: 100, requests: 3, arrivals: 'poisson', seed: 2 }),
      /model crashed/,
    );
    await assert.rejects(runLoadTest(async () => 0, { qps: -1, requests: 3, arrivals: 'fixed', seed: 2 }), /qps: expected a positive number/);
  });
});

describe('HTML report', { timeout: 30_000 }, () => {
  it('is well-formed, self-contained, with one polyline per system and series and labelled axes', async () => {
    const fast = [10, 12, 15, 20, 31];
    const slow = [40, 45, 50, 70, 90];
    const systems = (arrivals: 'fixed' | 'poisson') => [
      { name: 'late <interaction>', levels: simulateLevels(fast, [5, 10, 20], { requests: 200, arrivals, seed: 1 }) },
      { name: 'cross-encoder & co', levels: simulateLevels(slow, [5, 10, 20], { requests: 200, arrivals, seed: 1 }) },
    ];
    const report = {
      title: 'Latency "report"',
      latency: [
        { name: 'late <interaction>', summary: summarizeLatencies(fast) },
        { name: 'cross-encoder & co', summary: summarizeLatencies(slow) },
      ],
      queues: [
        { arrivals: 'fixed', systems: systems('fixed') },
        { arrivals: 'poisson', systems: systems('poisson') },
      ],
    };
    const html = latencyReportHtml(report);
    assertWellFormed(html);
    assert.equal((html.match(/<svg /g) ?? []).length, 3);
    // 2 systems in the percentile chart, 2 systems x (p50, p99) in each QPS chart.
    assert.equal((html.match(/<polyline /g) ?? []).length, 2 + 2 * 4);
    assert.match(html, /data-name="late &lt;interaction&gt; p99"/);
    assert.match(html, /class="axis-label"[^>]*>requests per second \(QPS\)</);
    assert.match(html, /class="axis-label"[^>]*>latency \(ms, log scale\)</);
    assert.match(html, />percentile</);
    assert.ok(!/<script|href=|src=|url\(/.test(html), 'no scripts or external assets');
    const path = join(await scratchDir(), 'report.html');
    await writeLatencyReport(path, report);
    assert.equal(await readFile(path, 'utf8'), html);
  });
});

describe('rankwise profile', { timeout: 30_000 }, () => {
  it('profiles a cross-encoder and late interaction, with real load next to the simulation and a report', async () => {
    const dir = await scratchDir();
    const queries = join(dir, 'queries.jsonl');
    const docs = join(dir, 'docs.txt');
    await writeFile(queries, '{"query":"how do vaccines work"}\n{"query":"why is the sea salty"}\n');
    await writeFile(docs, 'Vaccines train the immune system.\nRivers carry salt into the sea.\nThe stock market fell.\n');
    const cross = await fixtureModel({ kind: 'cross-encoder', layers: 1, hidden: 32, heads: 2, intermediate: 64 });
    const encoder = await fixtureModel({ kind: 'bi-encoder', layers: 1, hidden: 32, heads: 2, intermediate: 64 });
    const report = join(dir, 'report.html');
    const samples = join(dir, 'samples.txt');
    for (const model of [cross, `late-interaction:${encoder}`]) {
      const out = JSON.parse(
        await ok('profile', '--model', model, '--queries', queries, '--docs', docs, '--samples', '100', '--qps', '5,100000', '--requests', '300',
          '--real-load', '4', '--real-requests', '6', '--report', report, '--save-samples', samples, '--threads', '1', '--json'),
      );
      assert.equal(out.samples, 100);
      assert.equal(out.service_times_ms.length, 100);
      const s = out.service_ms;
      assert.ok(s.p50 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max);
      assert.equal(s.max, Math.max(...out.service_times_ms));
      assert.deepEqual(Object.keys(out.simulation).sort(), ['fixed', 'poisson']);
      assert.deepEqual(out.simulation.fixed.map((l: { qps: number }) => l.qps), [5, 100000]);
      // 100,000 QPS is far beyond any of these services' capacity: the queue must blow up there.
      assert.ok(out.simulation.fixed[1].utilization > 1 && out.simulation.fixed[1].p99 > out.simulation.fixed[0].p99);
      assert.equal(out.real_load.length, 1);
      assert.equal(out.real_load[0].requests, 6);
      assert.equal(out.real_load[0].simulated.qps, 4);
      assert.equal(out.index_ms === null, model === cross);
      const saved = (await readFile(samples, 'utf8')).trim().split('\n').map(Number);
      assert.equal(saved.length, 100);
      const html = await readFile(report, 'utf8');
      assertWellFormed(html);
      assert.equal((html.match(/<polyline /g) ?? []).length, 1 + 2 * 2);
    }
    const bad = await rankwise('profile', '--model', cross, '--queries', join(dir, 'missing.jsonl'), '--docs', docs);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--queries .*missing\.jsonl: no such file/);
  });
});
