/** One window of a sliding-window pass: positions [start, end) of the current order. */
import { InputError } from '../../errors.js';
export interface Window {
  start: number;
  end: number;
}

/**
 * RankGPT's schedule: windows of `size` from the back of the list to the front, each `step` earlier than the last.
 * A window's best `size - step` documents stay in the overlap the next window sees, so a strong document found near
 * the bottom is carried forward and can reach the top in one pass.
 */
export function slidingWindows(count: number, size: number, step: number): Window[] {
  if (!Number.isInteger(count) || count < 0) throw new InputError(`count: expected a non-negative integer, got ${count}`);
  if (!Number.isInteger(size) || size < 2) throw new InputError(`windowSize: expected an integer of at least 2, got ${size}`);
  if (!Number.isInteger(step) || step < 1 || step > size) throw new InputError(`windowStep: expected an integer from 1 to windowSize (${size}), got ${step}`);
  if (count === 0) return [];
  if (count <= size) return [{ start: 0, end: count }];
  const windows: Window[] = [];
  for (let end = count; ; end -= step) {
    const start = Math.max(0, end - size);
    windows.push({ start, end });
    if (start === 0) break;
  }
  return windows;
}

/**
 * Applies `rankWindow` to each window in turn, rewriting that slice of the order with the window's answer.
 * `rankWindow` gets the items of one window (in the current order) and returns them reordered.
 */
export async function rankWithSlidingWindow<T>(
  items: readonly T[],
  size: number,
  step: number,
  rankWindow: (window: readonly T[], position: Window) => Promise<readonly T[]>,
): Promise<T[]> {
  const order = [...items];
  for (const position of slidingWindows(order.length, size, step)) {
    const slice = order.slice(position.start, position.end);
    const reordered = await rankWindow(slice, position);
    if (reordered.length !== slice.length) {
      throw new InputError(`rankWindow: returned ${reordered.length} items for a window of ${slice.length}`);
    }
    order.splice(position.start, slice.length, ...reordered);
  }
  return order;
}
