import { runBertBatch } from '../models/bert-model.js';
import type { ort } from '../models/session.js';
import type { PaddedBatch } from '../models/tokenizer/index.js';

/**
 * The backend under a {@link CrossEncoder}: one forward pass over an already-padded batch of token sequences. What
 * sits above it (tokenization, windows, batching, the activation and the label) is the same for every backend, so
 * ONNX inference, the libtorch model being trained and the server's cross-request batcher all score alike.
 */
export interface Scorer {
  /** The classifier's logits for each row of `batch`, row-major `[batch.batchSize x labels]`. */
  logits(batch: PaddedBatch): Promise<Float32Array>;
  /** Releases the backend's native resources. */
  dispose(): Promise<void>;
}

/** A cross-encoder exported to ONNX (Hugging Face's inputs, a `logits` output), run by onnxruntime. */
export class OnnxScorer implements Scorer {
  constructor(private readonly session: ort.InferenceSession) {}

  async logits(batch: PaddedBatch): Promise<Float32Array> {
    const output = await runBertBatch(this.session, batch);
    // A copy, so that the output tensor's native memory can be released at once.
    const logits = Float32Array.from(output.logits.data as Float32Array);
    output.logits.dispose?.();
    return logits;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
