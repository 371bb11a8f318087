import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress, formatDuration, formatProgressLine, formatRate } from '../src/util/progress.js';

test('formatDuration: m:ss under an hour, h:mm:ss beyond, --:-- when unknown', { timeout: 30_000 }, () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(4_400), '0:04');
  assert.equal(formatDuration(59_600), '1:00'); // rounds to the nearest second
  assert.equal(formatDuration(754_000), '12:34');
  assert.equal(formatDuration(3_600_000), '1:00:00');
  assert.equal(formatDuration(3_725_000), '1:02:05');
  assert.equal(formatDuration(NaN), '--:--');
  assert.equal(formatDuration(Infinity), '--:--');
  assert.equal(formatDuration(-5), '--:--');
});

test('formatRate keeps about three significant digits', { timeout: 30_000 }, () => {
  assert.equal(formatRate(1234.5), '1235');
  assert.equal(formatRate(12.345), '12.3');
  assert.equal(formatRate(0.5), '0.50');
  assert.equal(formatRate(NaN), '-');
});

test('formatProgressLine: bar, count, rate, ETA and extra text', { timeout: 30_000 }, () => {
  // 50 of 100 in 4 s: 12.5 items/s, 50 left -> 4 s. Fixed part: "scoring " (8) + "50/100 12.5/s ETA 0:04" (22)
  // + " loss 0.31" (10) + "[", "]", " " (3) = 43 columns, so 80 columns leave 37 for the bar; half of 37 rounds to 19.
  const line = formatProgressLine({ done: 50, total: 100, elapsedMs: 4000, label: 'scoring', extra: 'loss 0.31', width: 80 });
  assert.equal(line, `scoring [${'#'.repeat(19)}${'-'.repeat(18)}] 50/100 12.5/s ETA 0:04 loss 0.31`);
  assert.equal(line.length, 80);
});

test('formatProgressLine: the bar is capped at 40 columns, full at the end, and the ETA is unknown before any progress', { timeout: 30_000 }, () => {
  const wide = formatProgressLine({ done: 10, total: 10, elapsedMs: 2000, label: 'x', width: 200 });
  assert.equal(wide, `x [${'#'.repeat(40)}] 10/10 5.00/s ETA 0:00`);
  const start = formatProgressLine({ done: 0, total: 10, elapsedMs: 0, label: 'x', width: 200 });
  assert.equal(start, `x [${'-'.repeat(40)}] 0/10 -/s ETA --:--`);
  // More done than announced: the bar stays full instead of overflowing.
  assert.match(formatProgressLine({ done: 12, total: 10, elapsedMs: 1000, label: 'x', width: 200 }), /^x \[#{40}\] 12\/10 /);
});

test('formatProgressLine: narrow terminals drop the bar, then cut the text, never exceeding the width', { timeout: 30_000 }, () => {
  const noBar = formatProgressLine({ done: 3, total: 9, elapsedMs: 3000, label: 'encoding', width: 40 });
  assert.equal(noBar, 'encoding 3/9 1.00/s ETA 0:06');
  const cut = formatProgressLine({ done: 3, total: 9, elapsedMs: 3000, label: 'encoding', extra: 'file.jsonl', width: 20 });
  assert.equal(cut, 'encoding 3/9 1.00/s…');
  for (let width = 1; width <= 90; width++) {
    const text = formatProgressLine({ done: 7, total: 300, elapsedMs: 1234, label: 'label', extra: 'extra text', width });
    assert.ok(text.length <= width, `width ${width}: ${JSON.stringify(text)}`);
  }
});

/** A plain writable target that records what was written, shaped like a terminal or a pipe. */
function sink(isTTY: boolean, columns = 60): { isTTY: boolean; columns: number; chunks: string[]; write(s: string): boolean } {
  const chunks: string[] = [];
  return { isTTY, columns, chunks, write: (s: string) => (chunks.push(s), true) };
}

test('createProgress prints nothing when disabled or when the stream is not a terminal', { timeout: 30_000 }, () => {
  for (const [stream, enabled] of [
    [sink(true), false],
    [sink(false), true],
    [sink(false), undefined],
  ] as const) {
    const p = createProgress({ total: 5, label: 'scoring', enabled, stream });
    for (let i = 0; i < 5; i++) p.tick(1, 'x');
    p.done();
    assert.deepEqual(stream.chunks, []);
  }
});

test('createProgress on a terminal redraws in place, at most once per interval, and ends the line on done', { timeout: 30_000 }, () => {
  const stream = sink(true, 60);
  const p = createProgress({ total: 1000, label: 'scoring', stream, minIntervalMs: 60_000 });
  for (let i = 0; i < 1000; i++) p.tick();
  // The first tick draws; the other 999 fall inside the interval and are skipped.
  assert.equal(stream.chunks.length, 1);
  assert.match(stream.chunks[0], /^\rscoring \[-*\] 1\/1000 .*\x1b\[K$/);
  p.tick(0, 'loss 0.25');
  p.done();
  p.tick(5);
  p.done();
  assert.equal(stream.chunks.length, 3, 'done draws once more and ends the line; later calls do nothing');
  assert.match(stream.chunks[1], /^\rscoring \[#+\] 1000\/1000 .* loss 0\.25\x1b\[K$/);
  assert.equal(stream.chunks[2], '\n');
  // Every drawn line fits the terminal with the last column left free.
  assert.ok(stream.chunks[1].replace('\r', '').replace('\x1b[K', '').length <= 59);
});

test('createProgress rejects a nonsensical total', { timeout: 30_000 }, () => {
  assert.throws(() => createProgress({ total: -1, label: 'x' }), /non-negative/);
  assert.throws(() => createProgress({ total: NaN, label: 'x' }), /non-negative/);
});
