/**
 * The pieces every rankwise ONNX graph writer is made of: a node and initializer list, torch-layout Linear layers
 * (fp32 MatMul or int8 per-channel DynamicQuantizeMatMul), LayerNormalization, the packed-QKV contrib attention ops
 * and the position-table slice. Model families (src/models/bert, src/models/use-lite) describe only their wiring.
 *
 * Node and initializer names are part of each writer's contract (tests and the quantizer look for them), so the
 * helpers derive them from the caller's prefix the same way for every family.
 */
import { transpose2d } from '../tensors.js';
import { DataType, makeNode, makeTensor, makeValueInfo, serializeModel } from './proto.js';
import type { AttrValue } from './proto.js';
import { quantizeLinearWeight } from './quantize.js';
import { ModelInvalidError } from '../../errors.js';

export type OnnxDtype = 'fp32' | 'int8';

/** Domain of onnxruntime's contrib ops (Attention, QAttention, DynamicQuantizeMatMul, BiasGelu, ...). */
export const MS_DOMAIN = 'com.microsoft';
export const BATCH_AXIS = 'batch_size';
export const SEQUENCE_AXIS = 'sequence_length';

type InitializerData = Float32Array | Int8Array | Int32Array | BigInt64Array;

export interface GraphOutputs {
  graphName: string;
  /** Token-level int64 inputs, [batch_size, sequence_length] each. */
  tokenInputs: string[];
  outputs: { name: string; dims: (number | string)[] }[];
  metadata: Record<string, string>;
}

export function checkDtype(dtype: string): asserts dtype is OnnxDtype {
  if (dtype !== 'fp32' && dtype !== 'int8') throw new ModelInvalidError(`onnx: unknown dtype "${dtype}"`);
}

export class GraphBuilder {
  readonly nodes: ReturnType<typeof makeNode>[] = [];
  readonly initializers: ReturnType<typeof makeTensor>[] = [];
  private readonly initializerNames = new Set<string>();

  constructor(readonly dtype: OnnxDtype) {
    checkDtype(dtype);
  }

  get int8(): boolean {
    return this.dtype === 'int8';
  }

  node(op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, domain = ''): void {
    this.nodes.push(makeNode(op, inputs, outputs, attrs, domain));
  }

  /** Adds a constant tensor and returns its name, for use as a node input. */
  initializer(name: string, dims: number[], data: InitializerData): string {
    this.initializers.push(makeTensor(name, dims, data));
    this.initializerNames.add(name);
    return name;
  }

  /** An int64 [1] constant, added on first use (several helpers share `zero_1d` and friends). */
  int64Constant(name: string, value: bigint): string {
    return this.initializerNames.has(name) ? name : this.initializer(name, [1], BigInt64Array.of(value));
  }

  /** A torch Linear weight [out, in] as the [in, out] matrix ONNX MatMul wants: `${name}.weight_t`. */
  transposedWeight(name: string, weight: Float32Array, out: number, inp: number): string {
    return this.initializer(`${name}.weight_t`, [inp, out], transpose2d(weight, out, inp));
  }

  /** A torch Linear weight quantized per output channel: [int8 weight, scales, zero points] initializer names. */
  quantizedWeight(name: string, weight: Float32Array, out: number, inp: number): [string, string, string] {
    const q = quantizeLinearWeight(weight, out, inp);
    return [
      this.initializer(`${name}.weight_int8`, [inp, out], q.data),
      this.initializer(`${name}.weight_scale`, [out], q.scales),
      this.initializer(`${name}.weight_zero_point`, [out], q.zeroPoints),
    ];
  }

  /**
   * `x @ W^T (+ bias)` for a torch-layout [out, in] weight; `bias` names an initializer the caller added. Returns the
   * output name, `${name}_out`. int8 folds the bias into DynamicQuantizeMatMul; fp32 adds it after the MatMul.
   */
  linear(x: string, name: string, weight: Float32Array, out: number, inp: number, bias?: string): string {
    const y = `${name}_out`;
    if (this.int8) {
      const quantized = this.quantizedWeight(name, weight, out, inp);
      this.node('DynamicQuantizeMatMul', bias ? [x, ...quantized, bias] : [x, ...quantized], [y], {}, MS_DOMAIN);
    } else if (bias) {
      this.node('MatMul', [x, this.transposedWeight(name, weight, out, inp)], [`${y}_nobias`]);
      this.node('Add', [`${y}_nobias`, bias], [y]);
    } else {
      this.node('MatMul', [x, this.transposedWeight(name, weight, out, inp)], [y]);
    }
    return y;
  }

  layerNorm(x: string, gamma: string, beta: string, out: string, epsilon: number): string {
    this.node('LayerNormalization', [x, gamma, beta], [out], { axis: -1, epsilon: { float: epsilon } });
    return out;
  }

  /**
   * Self-attention through onnxruntime's packed-QKV kernel: contrib Attention (fp32) or DynamicQuantizeLinear +
   * QAttention (int8). `wqkv` is the torch [3 * inp, inp] weight whose output is q | k | v with heads contiguous;
   * `mask` is the int32 0/1 padding mask. Initializers are named `${prefix}.qkv.*`, intermediates `${prefix}_xq*`.
   */
  packedAttention(x: string, prefix: string, wqkv: Float32Array, inp: number, bias: string, mask: string, heads: number, out: string): void {
    const qkv = `${prefix}.qkv`;
    if (this.int8) {
      const [wq, scale, zeroPoint] = this.quantizedWeight(qkv, wqkv, 3 * inp, inp);
      const xq = [`${prefix}_xq`, `${prefix}_xq_scale`, `${prefix}_xq_zp`];
      this.node('DynamicQuantizeLinear', [x], xq);
      this.node('QAttention', [xq[0], wq, bias, xq[1], scale, mask, xq[2], zeroPoint], [out], { num_heads: heads }, MS_DOMAIN);
    } else {
      const wt = this.transposedWeight(qkv, wqkv, 3 * inp, inp);
      this.node('Attention', [x, wt, bias, mask], [out], { num_heads: heads }, MS_DOMAIN);
    }
  }

  /** Rows 0..T-1 of a position table, T being `ids`' sequence length: `table[0 : shape(ids)[1]]`. */
  positionSlice(table: string, ids: string, out: string): string {
    const zero = this.int64Constant('zero_1d', 0n);
    this.node('Shape', [ids], ['seq_len_1d'], { start: 1, end: 2 });
    this.node('Slice', [table, zero, 'seq_len_1d', zero], [out]);
    return out;
  }

  /** The model bytes: opset 17 plus onnxruntime's contrib domain. */
  serialize(graph: GraphOutputs): Uint8Array {
    return serializeModel({
      graphName: graph.graphName,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: graph.tokenInputs.map((name) => makeValueInfo(name, DataType.INT64, [BATCH_AXIS, SEQUENCE_AXIS])),
      outputs: graph.outputs.map((o) => makeValueInfo(o.name, DataType.FLOAT, o.dims)),
      opsets: { '': 17, [MS_DOMAIN]: 1 },
      metadata: graph.metadata,
    });
  }
}
