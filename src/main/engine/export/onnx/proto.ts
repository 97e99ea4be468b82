// The one place that builds ONNX protobuf messages (onnx-proto's generated ModelProto classes):
// small constructors for tensors, attributes, nodes and value infos, and the encode/decode pair.
import { createRequire } from 'node:module';
import type { onnx as OnnxNs } from 'onnx-proto';

const require = createRequire(import.meta.url);
// onnx-proto ships CommonJS; its generated namespace is the `onnx` export.
const { onnx } = require('onnx-proto') as { onnx: typeof OnnxNs };
export { onnx };

export type NodeProto = OnnxNs.INodeProto;
export type TensorProto = OnnxNs.ITensorProto;
export type ModelProto = OnnxNs.IModelProto;

export const DataType = onnx.TensorProto.DataType;
const Attr = onnx.AttributeProto.AttributeType;

export type AttrValue = number | number[] | string | { float: number };

function attribute(name: string, v: AttrValue): OnnxNs.IAttributeProto {
  if (typeof v === 'string') return { name, type: Attr.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: Attr.INTS, ints: v };
  if (typeof v === 'object') return { name, type: Attr.FLOAT, f: v.float };
  return { name, type: Attr.INT, i: v };
}

export function node(opType: string, inputs: string[], outputs: string[], name: string, attrs: Record<string, AttrValue> = {}): NodeProto {
  return { opType, input: inputs, output: outputs, name, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) };
}

type TypedData = Float32Array | Uint16Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

/** An initializer; the data goes in raw_data (little-endian, which every platform here is). */
export function tensor(name: string, dataType: number, dims: number[], data: TypedData): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`ONNX initializer ${name}: ${data.length} values for dims [${dims.join(',')}]`);
  return { name, dataType, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  return tensor(name, DataType.FLOAT, dims, data);
}

export function int64Tensor(name: string, values: number[]): TensorProto {
  return tensor(name, DataType.INT64, [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
}

/** A float32 value info; a string dim is symbolic (the batch). */
export function valueInfo(name: string, dims: (number | string)[], elemType: number = DataType.FLOAT): OnnxNs.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export type DecodedModel = OnnxNs.ModelProto;
export type DecodedGraph = OnnxNs.GraphProto;

export function decodeModel(bytes: Uint8Array): DecodedModel {
  return onnx.ModelProto.decode(bytes);
}

/** The decoded model's graph (decode fills every message, so it is a full GraphProto). */
export function decodedGraph(m: DecodedModel): DecodedGraph {
  if (!m.graph) throw new Error('ONNX model has no graph');
  return m.graph as DecodedGraph;
}
