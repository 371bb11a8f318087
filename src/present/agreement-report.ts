import type { AgreementReport } from '../eval/late-interaction-agreement.js';

const pct = (x: number) => `${Math.round(x * 100)}%`;

const signed = (x: number) => (Number.isNaN(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);

/** Per-query rows and the article's summary lines. */
export function formatAgreement(report: AgreementReport): string {
  const idWidth = Math.max(5, ...report.rows.map((r) => r.id.length));
  const lines = [
    `Ranking agreement (${report.candidate} vs ${report.reference} as ground truth):`,
    `${'query'.padEnd(idWidth)}     tau  top-3  top-5`,
    ...report.rows.map((r) => `${r.id.padEnd(idWidth)}  ${signed(r.tau).padStart(6)}  ${pct(r.top3).padStart(5)}  ${pct(r.top5).padStart(5)}  ${r.query}`),
    '',
    `Avg Kendall's tau: ${signed(report.average.tau)}`,
    `Avg top-3 overlap: ${pct(report.average.top3)}`,
    `Avg top-5 overlap: ${pct(report.average.top5)}`,
  ];
  return lines.join('\n');
}
