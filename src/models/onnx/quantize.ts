/**
 * Per-output-channel symmetric int8 weight quantisation, the layout that onnxruntime's DynamicQuantizeMatMul and
 * MatMulInteger expect for B: an [in, out] int8 matrix with one scale per column and zero points of 0.
 */
export interface QuantizedMatrix {
  /** [in, out], row-major. */
  data: Int8Array;
  /** One per output channel (column of B). */
  scales: Float32Array;
  /** All zeros: symmetric quantisation; onnxruntime still wants the tensor to know the zero-point type. */
  zeroPoints: Int8Array;
  rows: number;
  cols: number;
}

/**
 * Quantises a torch nn.Linear weight stored [out, in] and returns it transposed to [in, out]. The range is
 * [-127, 127] rather than [-128, 127] so that negating a column never overflows and the scale stays symmetric.
 */
export function quantizeLinearWeight(weight: Float32Array, out: number, inp: number): QuantizedMatrix {
  if (weight.length !== out * inp) throw new Error(`quantize: weight has ${weight.length} values, expected ${out}x${inp}`);
  const data = new Int8Array(inp * out);
  const scales = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    let maxAbs = 0;
    const row = o * inp;
    for (let i = 0; i < inp; i++) maxAbs = Math.max(maxAbs, Math.abs(weight[row + i]));
    // An all-zero channel still needs a positive scale; any value gives exact zeros.
    const scale = maxAbs > 0 ? maxAbs / 127 : 1;
    scales[o] = scale;
    const inv = 1 / scale;
    for (let i = 0; i < inp; i++) {
      const q = Math.round(weight[row + i] * inv);
      data[i * out + o] = q > 127 ? 127 : q < -127 ? -127 : q;
    }
  }
  return { data, scales, zeroPoints: new Int8Array(out), rows: inp, cols: out };
}

/** Dequantised copy ([in, out]), for measuring quantisation error in tests. */
export function dequantize(q: QuantizedMatrix): Float32Array {
  const outArr = new Float32Array(q.data.length);
  for (let i = 0; i < q.rows; i++) {
    for (let o = 0; o < q.cols; o++) outArr[i * q.cols + o] = q.data[i * q.cols + o] * q.scales[o];
  }
  return outArr;
}
