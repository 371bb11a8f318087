/** A named float32 tensor, stored row-major, as in safetensors and PyTorch state dicts. */
import { ModelInvalidError } from '../errors.js';
export interface Float32Tensor {
  shape: number[];
  data: Float32Array;
}

/** Weights by Hugging Face parameter name (`bert.encoder.layer.0.attention.self.query.weight`, ...). */
export type TensorMap = Map<string, Float32Tensor>;

export function tensorSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function getTensor(weights: TensorMap, name: string, shape?: readonly number[]): Float32Tensor {
  const t = weights.get(name);
  if (!t) throw new ModelInvalidError(`weights: missing tensor "${name}"`);
  if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
    throw new ModelInvalidError(`weights: tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
  }
  return t;
}

/** [rows, cols] row-major -> [cols, rows]; e.g. a torch Linear's [out, in] into the [in, out] ONNX MatMul wants. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}
