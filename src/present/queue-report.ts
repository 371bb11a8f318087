import type { QueueLevelResult, SystemLevels } from '../eval/queue-simulation.js';
import { formatPercentileRows } from './latency-table.js';

/**
 * The article's QPS table: per level a heading with each system's utilisation, then its response-time percentiles;
 * a system whose tail explodes at that level is marked.
 */
export function formatQueueLevels(systems: readonly SystemLevels[]): string {
  if (systems.length === 0) return '';
  const blocks = systems[0].levels.map((level, i) => {
    const utilisation = systems.map((s) => `${s.name} util: ${Math.round(s.levels[i].utilization * 100)}%`).join(', ');
    const rows = systems.map((s) => ({ name: s.name, summary: s.levels[i].response, level: s.levels[i] }));
    const body = formatPercentileRows(rows, (row) => {
      const l = (row as (typeof rows)[number]).level;
      if (!l.tailExplodes) return `  (mean wait ${l.meanWaitMs.toFixed(1)}ms)`;
      return `  <- tail explodes (${l.utilization >= 1 ? 'utilisation >= 100%' : 'p99 > 10x idle p50'}; mean wait ${l.meanWaitMs.toFixed(1)}ms)`;
    });
    return `QPS: ${level.qps} (${utilisation})\n${body}`;
  });
  return blocks.join('\n\n');
}

/** The `--json` shape of one level, times in ms. */
export function levelJson(level: QueueLevelResult) {
  const r = level.response;
  return {
    qps: level.qps,
    utilization: level.utilization,
    p50: r.p50,
    p95: r.p95,
    p99: r.p99,
    p999: r.p999,
    max: r.max,
    mean_wait_ms: level.meanWaitMs,
  };
}
