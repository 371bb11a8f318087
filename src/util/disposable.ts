/**
 * Anything that holds native memory, worker threads, sockets or open files until it is released: ONNX sessions,
 * llama.cpp contexts, LanceDB connections. `dispose()` is required, so callers never guess whether to call it, and
 * `[Symbol.asyncDispose]` does the same for `await using`. Holders without native resources implement a no-op.
 */
export interface DisposableResource extends AsyncDisposable {
  dispose(): Promise<void>;
}
