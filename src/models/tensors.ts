/** A named float32 tensor, stored row-major, as in safetensors and PyTorch state dicts. */
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
  if (!t) throw new Error(`weights: missing tensor "${name}"`);
  if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
    throw new Error(`weights: tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
  }
  return t;
}
