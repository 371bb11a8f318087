import type { DisposableResource } from '../util/disposable.js';

/** Anything that turns texts into one fixed-size vector each: our ONNX BiEncoder, the built-in USE Lite encoder. */
export interface SentenceEncoder extends DisposableResource {
  /** Name shown in tables and errors (a hub id, a folder, or a built-in name such as `use-lite`). */
  readonly name: string;
  /** Length of each vector. */
  readonly dimension: number;
  /** One vector per text, in input order; L2-normalised when `normalize` is true (the default). */
  encode(texts: readonly string[], options?: { normalize?: boolean; batchSize?: number }): Promise<Float32Array[]>;
}
