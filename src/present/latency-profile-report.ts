import type { LatencySummary } from '../eval/latency.js';
import type { ServiceProfile } from '../eval/latency-profile.js';
import { formatPercentileRows } from './latency-table.js';
import { formatQueueLevels, levelJson } from './queue-report.js';

/** Measured and simulated percentiles side by side, per real-load level. */
export function formatRealLoad(profile: ServiceProfile): string {
  return profile.realLoad
    .map(({ measured, simulated }) => {
      const heading = `${profile.name} at ${measured.qps} QPS (${measured.arrivals} arrivals, ${measured.requests} real requests; worker busy ${Math.round(measured.busyShare * 100)}%)`;
      const rows = formatPercentileRows(
        [
          { name: 'measured', summary: measured.response },
          { name: 'simulated', summary: simulated.response },
        ],
        (row) => `  (mean wait ${(row.name === 'measured' ? measured.meanWaitMs : simulated.meanWaitMs).toFixed(1)}ms)`,
      );
      return `${heading}\n${rows}`;
    })
    .join('\n\n');
}

/** Everything a profile prints: service-time percentiles, the QPS tables, real load against simulation. */
export function formatProfiles(profiles: readonly ServiceProfile[], requests: number): string {
  const out: string[] = [];
  out.push(`LATENCY PROFILING\nRaw processing time (${profiles.map((p) => `${p.serviceMs.length} samples`).join(', ')}):`);
  out.push(formatPercentileRows(profiles.map((p) => ({ name: p.name, summary: p.service }))));
  for (const [i, queue] of profiles[0].queues.entries()) {
    out.push(
      `\nQPS SIMULATION (single-server queue, ${requests} requests per level, ${queue.arrivals} arrivals)\n` +
        'Response time = queue wait + processing time.\n\n' +
        formatQueueLevels(profiles.map((p) => ({ name: p.name, levels: p.queues[i].levels }))),
    );
  }
  const real = profiles.filter((p) => p.realLoad.length > 0);
  if (real.length > 0) out.push(`\nREAL LOAD vs SIMULATION (open-loop generator, one worker, FIFO)\n\n${real.map(formatRealLoad).join('\n\n')}`);
  return out.join('\n');
}

export function summaryJson(s: LatencySummary) {
  return { p50: s.p50, p95: s.p95, p99: s.p99, p999: s.p999, max: s.max, mean: s.mean };
}

export function profileJson(profile: ServiceProfile) {
  return {
    model: profile.name,
    index_ms: profile.indexMs,
    samples: profile.serviceMs.length,
    service_ms: summaryJson(profile.service),
    service_times_ms: profile.serviceMs,
    simulation: Object.fromEntries(profile.queues.map((q) => [q.arrivals, q.levels.map(levelJson)])),
    real_load: profile.realLoad.map(({ measured, simulated }) => ({
      qps: measured.qps,
      arrivals: measured.arrivals,
      requests: measured.requests,
      measured: { ...summaryJson(measured.response), mean_wait_ms: measured.meanWaitMs, busy_share: measured.busyShare },
      simulated: levelJson(simulated),
    })),
  };
}
