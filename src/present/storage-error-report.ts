import type { StorageError } from '../eval/compact-storage-error.js';

export function formatStorageError(rows: readonly StorageError[], dim: number): string {
  const lines = [`Compact storage vs float32 (${dim * 4} bytes per token):`];
  for (const r of rows) {
    lines.push(
      `${r.encoding.padEnd(8)} ${String(r.bytesPerToken).padStart(5)} bytes/token  avg tau ${r.average.tau.toFixed(4)} (worst ${r.worstTau.toFixed(4)})  ` +
        `top-3 ${Math.round(r.average.top3 * 100)}%  top-5 ${Math.round(r.average.top5 * 100)}%  max |score error| ${r.maxScoreError.toExponential(2)}`,
    );
  }
  return lines.join('\n');
}
