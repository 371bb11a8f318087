/**
 * Per-output-channel symmetric int8 weight quantisation, the layout that onnxruntime's DynamicQuantizeMatMul and
 * MatMulInteger expect for B: an [in, out] int8 matrix with one scale per column and zero points of 0.
 */
import { InputError } from '../../errors.js';
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
 * Weights use 7 bits, [-63, 63] (onnxruntime's `reduce_range`). On CPUs without VNNI (AVX2 only) onnxruntime's u8 x s8
 * kernel adds pairs of products in saturating int16 (vpmaddubsw): with full-range weights and activations those pairs
 * overflow, and USE Lite's int8 sentence vectors fell to cosine 0.94 against fp32 on such a machine. With 7-bit
 * weights no pair can overflow (2 x 255 x 63 < 32767); VNNI machines lose one bit of weight precision.
 */
export const WEIGHT_QMAX = 63;

/**
 * Quantises a torch nn.Linear weight stored [out, in] and returns it transposed to [in, out]. The range is symmetric,
 * [-WEIGHT_QMAX, WEIGHT_QMAX], so that negating a column never overflows.
 */
export function quantizeLinearWeight(weight: Float32Array, out: number, inp: number): QuantizedMatrix {
  if (weight.length !== out * inp) throw new InputError(`quantize: weight has ${weight.length} values, expected ${out}x${inp}`);
  const data = new Int8Array(inp * out);
  const scales = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    let maxAbs = 0;
    const row = o * inp;
    for (let i = 0; i < inp; i++) maxAbs = Math.max(maxAbs, Math.abs(weight[row + i]));
    // An all-zero channel still needs a positive scale; any value gives exact zeros.
    const scale = maxAbs > 0 ? maxAbs / WEIGHT_QMAX : 1;
    scales[o] = scale;
    const inv = 1 / scale;
    for (let i = 0; i < inp; i++) {
      const q = Math.round(weight[row + i] * inv);
      data[i * out + o] = q > WEIGHT_QMAX ? WEIGHT_QMAX : q < -WEIGHT_QMAX ? -WEIGHT_QMAX : q;
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
