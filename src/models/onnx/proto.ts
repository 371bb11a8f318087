// onnx-proto's declarations use protobufjs 6's global `Long` without referencing it; this keeps the published .d.ts
// checkable without skipLibCheck (@types/long comes with protobufjs 6).
/// <reference types="long" preserve="true" />
/**
 * Thin helpers over the onnx-proto (protobufjs) classes, so graph builders read as a list of nodes instead of
 * protobuf object literals.
 */
import { createRequire } from 'node:module';
import type onnxProto from 'onnx-proto';
import { ModelInvalidError } from '../../errors.js';

type Onnx = typeof onnxProto.onnx;
let loaded: Onnx | undefined;

/**
 * onnx-proto, loaded on the first graph written: its generated protobufjs module takes 75-110 ms to load, most of
 * `import 'rankwise'`, and a process that only ranks with folders already written never needs it.
 */
function onnx(): Onnx {
  loaded ??= (createRequire(import.meta.url)('onnx-proto') as typeof onnxProto).onnx;
  return loaded;
}

export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** A number is an INT attribute (ONNX has no way to tell 1 from 1.0); floats are spelled `{ float: v }`. */
export type AttrValue = number | string | number[] | { float: number };

function bytesOf(data: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian, like every platform onnxruntime-node ships for, so a byte view suffices.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function dataTypeOf(data: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array): DataTypeCode {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Int8Array) return DataType.INT8;
  if (data instanceof Uint8Array) return DataType.UINT8;
  if (data instanceof Int32Array) return DataType.INT32;
  return DataType.INT64;
}

export function makeTensor(
  name: string,
  dims: readonly number[],
  data: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array,
): InstanceType<Onnx['TensorProto']> {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new ModelInvalidError(`onnx: initializer "${name}" has ${data.length} values, dims [${dims}] need ${expected}`);
  }
  return onnx().TensorProto.create({ name, dims: [...dims], dataType: dataTypeOf(data), rawData: bytesOf(data) });
}

function makeAttribute(name: string, value: AttrValue): InstanceType<Onnx['AttributeProto']> {
  const T = onnx().AttributeProto.AttributeType;
  if (typeof value === 'string') return onnx().AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx().AttributeProto.create({ name, type: T.INTS, ints: value });
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new ModelInvalidError(`onnx: attribute "${name}" = ${value} is not an integer; use { float }`);
    return onnx().AttributeProto.create({ name, type: T.INT, i: value });
  }
  return onnx().AttributeProto.create({ name, type: T.FLOAT, f: value.float });
}

export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Record<string, AttrValue> = {},
  domain = '',
  name?: string,
): InstanceType<Onnx['NodeProto']> {
  return onnx().NodeProto.create({
    opType,
    input: [...inputs],
    output: [...outputs],
    name: name ?? `${opType}_${outputs[0]}`,
    domain,
    attribute: Object.entries(attrs).map(([k, v]) => makeAttribute(k, v)),
  });
}

/** Dimensions are numbers for fixed sizes and strings for named dynamic axes. */
export function makeValueInfo(
  name: string,
  elemType: DataTypeCode,
  dims: readonly (number | string)[],
): InstanceType<Onnx['ValueInfoProto']> {
  return onnx().ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

export interface ModelParts {
  nodes: InstanceType<Onnx['NodeProto']>[];
  initializers: InstanceType<Onnx['TensorProto']>[];
  inputs: InstanceType<Onnx['ValueInfoProto']>[];
  outputs: InstanceType<Onnx['ValueInfoProto']>[];
  graphName: string;
  /** Operator sets by domain; '' is the standard ONNX domain. */
  opsets: Record<string, number>;
  producerName?: string;
  metadata?: Record<string, string>;
}

export function serializeModel(parts: ModelParts): Uint8Array {
  const model = onnx().ModelProto.create({
    // IR 8 is what opset 17 requires and the newest version this onnx-proto release knows.
    irVersion: 8,
    producerName: parts.producerName ?? 'rankwise',
    opsetImport: Object.entries(parts.opsets).map(([domain, version]) => ({ domain, version })),
    metadataProps: Object.entries(parts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: parts.graphName,
      node: parts.nodes,
      initializer: parts.initializers,
      input: parts.inputs,
      output: parts.outputs,
    },
  });
  return onnx().ModelProto.encode(model).finish();
}
