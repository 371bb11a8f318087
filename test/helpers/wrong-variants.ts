/**
 * Deliberately wrong variants of the models the parity tests compare, so each tolerance can be shown to catch the
 * bugs it claims to: a test builds the variant through the project's own graph writers and asserts that its
 * difference from the reference EXCEEDS the tolerance the real graph passes.
 */
import type { BertConfig } from '../../src/models/config.js';
import { timingSignal } from '../../src/models/use-lite/graph.js';

export interface WrongBertVariant {
  label: string;
  config: BertConfig;
}

/**
 * The config slips a converter or writer could make: LayerNorm eps 1e-5 (PyTorch's default) instead of the config's
 * 1e-12, and the other GELU (tanh approximation gelu_new for the exact erf gelu, and back; gelu for relu).
 */
export function wrongBertConfigs(config: BertConfig): WrongBertVariant[] {
  const act = config.hidden_act ?? 'gelu';
  const wrongAct = act === 'gelu' ? 'gelu_new' : 'gelu';
  const wrongEps = config.layer_norm_eps === 1e-5 ? 1e-12 : 1e-5;
  return [
    { label: `layer_norm_eps ${wrongEps} instead of ${config.layer_norm_eps}`, config: { ...config, layer_norm_eps: wrongEps } },
    { label: `hidden_act ${wrongAct} instead of ${act}`, config: { ...config, hidden_act: wrongAct } },
  ];
}

/**
 * Returns a copy of a serialized ONNX model with one float32 initializer's raw bytes replaced by `replacement`
 * (same length, so the protobuf stays valid). Throws unless `original` occurs exactly once in the bytes.
 */
export function replaceInitializer(model: Uint8Array, original: Float32Array, replacement: Float32Array): Uint8Array {
  if (original.length !== replacement.length) throw new Error('replaceInitializer: lengths differ');
  const bytes = Buffer.from(model);
  const needle = Buffer.from(original.buffer, original.byteOffset, original.byteLength);
  const at = bytes.indexOf(needle);
  if (at < 0 || bytes.indexOf(needle, at + 1) >= 0) throw new Error('replaceInitializer: expected exactly one copy of the initializer');
  bytes.set(new Uint8Array(replacement.buffer, replacement.byteOffset, replacement.byteLength), at);
  return new Uint8Array(bytes);
}

/** Wrong position signals: off by one position (counting from 1), cos and sin halves swapped, or none at all. */
export function wrongUseLiteSignals(inv: Float32Array, positions: number): Array<{ label: string; signal: Float32Array }> {
  const width = 2 * inv.length;
  const right = timingSignal(inv, positions);
  const swapped = new Float32Array(right.length);
  for (let p = 0; p < positions; p++) {
    swapped.set(right.subarray(p * width + inv.length, (p + 1) * width), p * width);
    swapped.set(right.subarray(p * width, p * width + inv.length), p * width + inv.length);
  }
  return [
    { label: 'positions counted from 1', signal: timingSignal(inv, positions + 1).slice(width) },
    { label: 'cos half before sin half', signal: swapped },
    { label: 'no position signal', signal: new Float32Array(right.length) },
  ];
}

/** Largest |a[i] - b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
