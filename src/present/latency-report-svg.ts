/**
 * A self-contained HTML report (inline SVG, no scripts, no external assets): the latency percentiles of each system
 * and, per arrival process, p50 and p99 response time against QPS. The y axes are logarithmic, because a saturated
 * queue's seconds and an idle server's milliseconds have to fit on one chart.
 */
import { writeFileAtomic } from '../util/atomic-write.js';
import type { NamedSummary } from '../eval/latency.js';
import type { SystemLevels } from '../eval/queue-simulation.js';

export interface LatencyReport {
  title: string;
  latency: NamedSummary[];
  queues: Array<{ arrivals: string; systems: SystemLevels[] }>;
}

const WIDTH = 760;
const HEIGHT = 360;
const MARGIN = { left: 70, right: 270, top: 40, bottom: 50 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Series {
  name: string;
  color: string;
  dashed: boolean;
  points: Array<[number, number]>;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) ticks.push(10 ** e);
  return ticks;
}

/** One chart: x is linear over the given positions (with labels), y is log10 of milliseconds. */
function chart(title: string, xLabel: string, xTicks: Array<{ x: number; label: string }>, series: Series[]): string {
  const ys = series.flatMap((s) => s.points.map((p) => Math.max(p[1], 0.01)));
  const yMin = Math.min(...ys);
  const yMax = Math.max(...ys);
  const ticks = logTicks(yMin, yMax);
  const lo = Math.log10(ticks[0]);
  const hi = Math.log10(ticks[ticks.length - 1]) === lo ? lo + 1 : Math.log10(ticks[ticks.length - 1]);
  const xs = xTicks.map((t) => t.x);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs) === xMin ? xMin + 1 : Math.max(...xs);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => MARGIN.top + plotH - ((Math.log10(Math.max(y, 0.01)) - lo) / (hi - lo)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img">`);
  parts.push(`<title>${escapeXml(title)}</title>`);
  parts.push(`<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`);
  parts.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="black"/>`);
  parts.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="black"/>`);
  for (const t of ticks) {
    if (Math.log10(t) > hi) continue;
    const y = py(t).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${t >= 1 ? t : t.toFixed(2)}</text>`);
  }
  for (const t of xTicks) {
    parts.push(`<text x="${px(t.x).toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" font-size="11">${escapeXml(t.label)}</text>`);
  }
  parts.push(`<text class="axis-label" x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>`);
  parts.push(
    `<text class="axis-label" x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">latency (ms, log scale)</text>`,
  );
  series.forEach((s, i) => {
    const points = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline class="series" data-name="${escapeXml(s.name)}" fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${points}"/>`);
    for (const [x, y] of s.points) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = MARGIN.top + 10 + i * 18;
    const lx = MARGIN.left + plotW + 12;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle" font-size="11">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

const PERCENTILES = [
  ['p50', (s: NamedSummary) => s.summary.p50],
  ['p95', (s: NamedSummary) => s.summary.p95],
  ['p99', (s: NamedSummary) => s.summary.p99],
  ['p99.9', (s: NamedSummary) => s.summary.p999],
  ['max', (s: NamedSummary) => s.summary.max],
] as const;

export function latencyReportHtml(report: LatencyReport): string {
  const charts: string[] = [];
  charts.push(
    chart(
      'Service time percentiles',
      'percentile',
      PERCENTILES.map(([label], i) => ({ x: i, label })),
      report.latency.map((s, i) => ({
        name: s.name,
        color: COLORS[i % COLORS.length],
        dashed: false,
        points: PERCENTILES.map(([, get], x) => [x, get(s)] as [number, number]),
      })),
    ),
  );
  for (const queue of report.queues) {
    const levels = queue.systems[0]?.levels.map((l) => l.qps) ?? [];
    charts.push(
      chart(
        `Response time vs QPS (${queue.arrivals} arrivals)`,
        'requests per second (QPS)',
        levels.map((q) => ({ x: q, label: String(q) })),
        queue.systems.flatMap((s, i) => [
          { name: `${s.name} p50`, color: COLORS[i % COLORS.length], dashed: false, points: s.levels.map((l) => [l.qps, l.response.p50] as [number, number]) },
          { name: `${s.name} p99`, color: COLORS[i % COLORS.length], dashed: true, points: s.levels.map((l) => [l.qps, l.response.p99] as [number, number]) },
        ]),
      ),
    );
  }
  return [
    '<!DOCTYPE html>',
    '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">',
    '<head>',
    '<meta charset="utf-8"/>',
    `<title>${escapeXml(report.title)}</title>`,
    '<style>body { font-family: sans-serif; margin: 24px; } figure { margin: 0 0 24px 0; }</style>',
    '</head>',
    '<body>',
    `<h1>${escapeXml(report.title)}</h1>`,
    ...charts.map((c) => `<figure>\n${c}\n</figure>`),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export async function writeLatencyReport(path: string, report: LatencyReport): Promise<void> {
  await writeFileAtomic(path, latencyReportHtml(report));
}
