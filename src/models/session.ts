import './ort-env.js'; // must run before onnxruntime-node loads
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { InputError, ModelInvalidError } from '../errors.js';

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
  if (!Number.isInteger(threads) || threads < 1) throw new InputError(`threads must be a positive integer, got ${threads}`);
  await checkOnnxFile(onnxPath);
  try {
    return await ort.InferenceSession.create(onnxPath, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
    });
  } catch (error) {
    // onnxruntime's message is a C++ source location and a protobuf detail; say which file and what was expected.
    const reason = ((error as Error).message.split('\n')[0].match(/failed:\s*(?:\S+:\d+ .*?\) )?(.*)$/)?.[1] ?? (error as Error).message).trim();
    throw new ModelInvalidError(`${onnxPath}: not a model onnxruntime can load (expected an ONNX ModelProto with a graph): ${reason}`);
  }
}

/** A missing or empty file is named plainly, before onnxruntime reports it as a protobuf without a graph. */
async function checkOnnxFile(onnxPath: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(onnxPath)).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelInvalidError(`${onnxPath}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}; expected an ONNX model`);
  }
  if (size === 0) throw new ModelInvalidError(`${onnxPath}: empty file (0 bytes); expected an ONNX model, the export or download may have been interrupted`);
}

export function int64Tensor(data: BigInt64Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', data, dims);
}

export { ort };
