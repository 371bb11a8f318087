/** `+12.3%` / `-4.0%` against a baseline; `n/a` when the baseline is 0. */
export function relativeChange(value: number, baseline: number): string {
  if (!(baseline > 0)) return 'n/a';
  const change = ((value - baseline) / baseline) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(1)}%`;
}
