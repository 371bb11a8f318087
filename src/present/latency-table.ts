import type { NamedSummary } from '../eval/latency.js';

function ms(value: number): string {
  return `${value.toFixed(1)}ms`;
}

/** The article's layout: one row per system, p50 p95 p99 p99.9 max in milliseconds. */
export function formatPercentileRows(rows: readonly NamedSummary[], note: (row: NamedSummary) => string = () => ''): string {
  const headers = ['', 'p50', 'p95', 'p99', 'p99.9', 'max'];
  const cells = rows.map((r) => [r.name, ms(r.summary.p50), ms(r.summary.p95), ms(r.summary.p99), ms(r.summary.p999), ms(r.summary.max)]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (values: string[]) => values.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  const rule = '─'.repeat(line(headers).length);
  return [line(headers), rule, ...cells.map((c, i) => `${line(c)}${note(rows[i])}`.trimEnd())].join('\n');
}
