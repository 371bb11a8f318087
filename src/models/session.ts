import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';

export interface SessionOptions {
  /** Intra-op threads; defaults to every core the process may use. */
  threads?: number;
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/**
 * One onnxruntime session per model file. Inter-op parallelism stays at 1: a BERT graph is a chain, so a second
 * pool only competes with the intra-op threads for the same cores.
 */
export async function createSession(onnxPath: string, options: SessionOptions = {}): Promise<ort.InferenceSession> {
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  return ort.InferenceSession.create(onnxPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
}

export function int64Tensor(data: BigInt64Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', data, dims);
}

export { ort };
