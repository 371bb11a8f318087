/** A one-line progress bar for long jobs, drawn on stderr so that stdout stays clean for results and JSON. */
import { InputError } from '../errors.js';

export interface ProgressOptions {
  total: number;
  label: string;
  /** false turns it off (the CLI passes false under --json); even when true, nothing is drawn unless the stream is a TTY. */
  enabled?: boolean;
  /** Where to draw; stderr by default. Anything with `isTTY` and `write`, `columns` when known. */
  stream?: ProgressStream;
  /** Least time between two redraws, in ms (default 100: at most ~10 redraws a second). */
  minIntervalMs?: number;
}

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

export interface Progress {
  /** Records n more items done (default 1); `extra` replaces the trailing text (a loss, a file name) until the next one. */
  tick(n?: number, extra?: string): void;
  /** Draws the final state and ends the line. Further ticks are ignored. */
  done(): void;
}

export interface ProgressLine {
  done: number;
  total: number;
  elapsedMs: number;
  label: string;
  extra?: string;
  /** Columns available; the line never exceeds it. */
  width: number;
}

/** `m:ss` under an hour, `h:mm:ss` beyond; `--:--` when unknown (no rate yet, or an infinite estimate). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Items per second with about three significant digits, so the width stays steady while it fluctuates. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  if (perSecond >= 100) return perSecond.toFixed(0);
  if (perSecond >= 10) return perSecond.toFixed(1);
  return perSecond.toFixed(2);
}

const MIN_BAR = 10;
const MAX_BAR = 40;

/**
 * `label [#####-----] 50/100 12.5/s ETA 0:04 extra`, fitted to `width` columns: the bar shrinks first, then goes, and
 * what still does not fit is cut with an ellipsis. ETA is `--:--` until something is done.
 */
export function formatProgressLine(line: ProgressLine): string {
  const { done, total, elapsedMs, label, width } = line;
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : NaN;
  const remainingMs = done > 0 && rate > 0 ? (Math.max(total - done, 0) / rate) * 1000 : NaN;
  const stats = `${done}/${total} ${formatRate(rate)}/s ETA ${formatDuration(remainingMs)}`;
  const extra = line.extra ? ` ${line.extra}` : '';
  const head = label ? `${label} ` : '';

  const fixed = head.length + stats.length + extra.length + 3; // "[" + "]" + " "
  const barWidth = Math.min(MAX_BAR, width - fixed);
  let text: string;
  if (barWidth >= MIN_BAR) {
    const fraction = total > 0 ? Math.min(done / total, 1) : 1;
    const filled = Math.round(fraction * barWidth);
    text = `${head}[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${stats}${extra}`;
  } else {
    text = `${head}${stats}${extra}`;
  }
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, Math.max(width, 0)) : `${text.slice(0, width - 1)}…`;
}

export function createProgress(options: ProgressOptions): Progress {
  const { total, label } = options;
  if (!Number.isFinite(total) || total < 0) throw new InputError(`progress: total must be a non-negative number, got ${total}`);
  const stream = options.stream ?? process.stderr;
  const minIntervalMs = options.minIntervalMs ?? 100;
  const active = options.enabled !== false && stream.isTTY === true;

  const start = performance.now();
  let count = 0;
  let extra: string | undefined;
  let lastDraw = -Infinity;
  let finished = false;

  const draw = (now: number) => {
    lastDraw = now;
    // Leave the last column free: writing into it makes some terminals wrap before the carriage return.
    const width = Math.max((stream.columns ?? 80) - 1, 1);
    const text = formatProgressLine({ done: count, total, elapsedMs: now - start, label, extra, width });
    stream.write(`\r${text}\x1b[K`);
  };

  return {
    tick(n = 1, text?: string) {
      if (finished) return;
      count += n;
      if (text !== undefined) extra = text;
      if (!active) return;
      const now = performance.now();
      if (now - lastDraw >= minIntervalMs) draw(now);
    },
    done() {
      if (finished) return;
      finished = true;
      if (!active) return;
      draw(performance.now());
      stream.write('\n');
    },
  };
}
