import { metricsByName, type RerankEvaluation } from '../eval/rerank-evaluator.js';

/** A metric table: one row per metric, four decimals. */
export function formatRerankReport(result: RerankEvaluation): string {
  const metrics = Object.entries(metricsByName(result));
  const width = Math.max('metric'.length, ...metrics.map(([name]) => name.length));
  const skipped = result.skipped > 0 ? ` (${result.skipped} without a relevant document, left out of the means)` : '';
  return [
    `Model: ${result.model}`,
    `Queries: ${result.queries}${skipped}`,
    '',
    `${'metric'.padEnd(width)}  value`,
    `${'-'.repeat(width)}  ------`,
    ...metrics.map(([name, value]) => `${name.padEnd(width)}  ${value.toFixed(4)}`),
  ].join('\n');
}
