import type { Encoded, PaddedBatch, SequenceTokenizer } from './tokenizer/index.js';
import { InputError } from '../errors.js';

export interface BatchLimits {
  /** At most this many sequences in one model call. */
  maxBatchSize: number;
  /** At most this many tokens, padding included, in one model call; bounds memory for long inputs. */
  maxBatchTokens?: number;
}

/**
 * Groups sequences of similar length so that padding is small: indices sorted by length, longest first, then cut into
 * batches bounded by count and by padded tokens. Callers scatter results back by index, so input order is kept.
 */
export function lengthSortedBatches(lengths: readonly number[], limits: BatchLimits): number[][] {
  const { maxBatchSize } = limits;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new InputError(`batchSize must be a positive integer, got ${maxBatchSize}`);
  }
  const maxTokens = limits.maxBatchTokens ?? Infinity;
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let width = 0;
  for (const index of order) {
    const nextWidth = current.length === 0 ? lengths[index] : width;
    if (current.length > 0 && (current.length >= maxBatchSize || (current.length + 1) * nextWidth > maxTokens)) {
      batches.push(current);
      current = [];
    }
    if (current.length === 0) width = lengths[index];
    current.push(index);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Runs `run` on each length-sorted, padded batch of `encoded`, one after another. */
export async function forEachBatch(
  tokenizer: SequenceTokenizer,
  encoded: readonly Encoded[],
  limits: BatchLimits,
  run: (batch: PaddedBatch, indices: number[]) => Promise<void>,
  onBatchDone?: (count: number) => void,
): Promise<void> {
  const batches = lengthSortedBatches(
    encoded.map((e) => e.inputIds.length),
    limits,
  );
  for (const indices of batches) {
    await run(
      tokenizer.pad(indices.map((i) => encoded[i])),
      indices,
    );
    onBatchDone?.(indices.length);
  }
}
