import type { LossDescription } from '../train/losses/registry.js';

/** A training line's shape as help texts and docs show it: `{"query","document","label"}`. */
export function trainingLine(loss: LossDescription): string {
  return `{${loss.fields.map((f) => JSON.stringify(f)).join(',')}}`;
}

/** A training command's help: `Lines: {"query","document","label"} (bce), ...`. */
export function formatTrainingLines(losses: readonly LossDescription[]): string {
  return `Lines: ${losses.map((l) => `${trainingLine(l)} (${l.name})`).join(', ')}`;
}

/** The docs' table of training losses (README, "rankwise train"), one row per registered loss. */
export function lossTableMarkdown(losses: readonly LossDescription[]): string {
  const rows = losses.map((l) => `| \`${l.name}\` | ${l.target} | ${l.learnsFrom} | \`${trainingLine(l)}\` | ${l.description} |`);
  return ['| `--loss` | trains | learns from | training line | what it does |', '|---|---|---|---|---|', ...rows].join('\n');
}
