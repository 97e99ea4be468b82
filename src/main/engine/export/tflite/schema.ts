// Hand-written FlatBuffer builders for the few tables of the TFLite schema (schema.fbs, "TFL3",
// version 3) this exporter writes. Field slots are the declaration order of each table in
// schema.fbs; enum values are the schema's. Only what the writer needs is here.
import { Builder, type Offset } from 'flatbuffers';

export const TensorType = { FLOAT32: 0, FLOAT16: 1, INT32: 2, INT8: 9 } as const;
export type TensorTypeValue = (typeof TensorType)[keyof typeof TensorType];

export const BuiltinOperator = {
  ADD: 0, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEQUANTIZE: 6, FULLY_CONNECTED: 9, MAX_POOL_2D: 17, MUL: 18,
  RELU: 19, RELU6: 21, SOFTMAX: 25, PAD: 34, MEAN: 40, QUANTIZE: 114,
} as const;
export type BuiltinOperatorValue = (typeof BuiltinOperator)[keyof typeof BuiltinOperator];

/** The BuiltinOptions union's type tags. */
export const BuiltinOptions = {
  NONE: 0, Conv2DOptions: 1, DepthwiseConv2DOptions: 2, Pool2DOptions: 5, FullyConnectedOptions: 8,
  SoftmaxOptions: 9, AddOptions: 11, MulOptions: 21, PadOptions: 22, ReducerOptions: 27,
} as const;

export const Padding = { SAME: 0, VALID: 1 } as const;
export const FusedActivation = { NONE: 0, RELU: 1, RELU6: 3 } as const;

export interface QuantizationSpec {
  scale: number[];
  zeroPoint: number[];
  /** The axis the per-channel scales run along. */
  quantizedDimension?: number;
}

function intVector(b: Builder, values: readonly number[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]!);
  return b.endVector();
}

function floatVector(b: Builder, values: readonly number[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i]!);
  return b.endVector();
}

function longVector(b: Builder, values: readonly number[]): Offset {
  b.startVector(8, values.length, 8);
  for (let i = values.length - 1; i >= 0; i--) b.addInt64(BigInt(values[i]!));
  return b.endVector();
}

function offsetVector(b: Builder, offsets: readonly Offset[]): Offset {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

/** Buffer { data:[ubyte] (force_align: 16) } */
export function buffer(b: Builder, data: Uint8Array | null): Offset {
  let dataOff = 0;
  if (data && data.length > 0) {
    b.startVector(1, data.length, 16);
    for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]!);
    dataOff = b.endVector();
  }
  b.startObject(3);
  if (dataOff) b.addFieldOffset(0, dataOff, 0);
  return b.endObject();
}

/** QuantizationParameters { min, max, scale, zero_point, details_type, details, quantized_dimension } */
function quantization(b: Builder, q: QuantizationSpec): Offset {
  const scale = floatVector(b, q.scale);
  const zero = longVector(b, q.zeroPoint);
  b.startObject(7);
  b.addFieldOffset(2, scale, 0);
  b.addFieldOffset(3, zero, 0);
  b.addFieldInt32(6, q.quantizedDimension ?? 0, 0);
  return b.endObject();
}

/** Tensor { shape, type, buffer, name, quantization, ... } */
export function tensor(b: Builder, t: { shape: number[]; type: TensorTypeValue; buffer: number; name: string; quantization?: QuantizationSpec }): Offset {
  const shape = intVector(b, t.shape);
  const name = b.createString(t.name);
  const q = t.quantization ? quantization(b, t.quantization) : 0;
  b.startObject(9);
  b.addFieldOffset(0, shape, 0);
  b.addFieldInt8(1, t.type, 0);
  b.addFieldInt32(2, t.buffer, 0);
  b.addFieldOffset(3, name, 0);
  if (q) b.addFieldOffset(4, q, 0);
  b.addFieldInt8(8, 1, 0); // has_rank
  return b.endObject();
}

/** OperatorCode { deprecated_builtin_code:byte, custom_code, version, builtin_code:int } */
export function operatorCode(b: Builder, code: BuiltinOperatorValue, version: number): Offset {
  b.startObject(4);
  b.addFieldInt8(0, Math.min(code, 127), 0);
  b.addFieldInt32(2, version, 1);
  b.addFieldInt32(3, code, 0);
  return b.endObject();
}

export type OptionsSpec =
  | { type: 'none' }
  | { type: 'conv'; padding: number; strideW: number; strideH: number; activation: number }
  | { type: 'depthwise'; padding: number; strideW: number; strideH: number; activation: number }
  | { type: 'pool'; padding: number; strideW: number; strideH: number; filterW: number; filterH: number }
  | { type: 'fc'; activation: number }
  | { type: 'softmax' }
  | { type: 'add' | 'mul'; activation: number }
  | { type: 'pad' }
  | { type: 'reducer'; keepDims: boolean };

function options(b: Builder, o: OptionsSpec): [number, Offset] {
  switch (o.type) {
    case 'none':
      return [BuiltinOptions.NONE, 0];
    case 'conv':
      // Conv2DOptions { padding, stride_w, stride_h, fused_activation_function, dilation_w_factor, dilation_h_factor }
      b.startObject(6);
      b.addFieldInt8(0, o.padding, 0);
      b.addFieldInt32(1, o.strideW, 0);
      b.addFieldInt32(2, o.strideH, 0);
      b.addFieldInt8(3, o.activation, 0);
      b.addFieldInt32(4, 1, 1);
      b.addFieldInt32(5, 1, 1);
      return [BuiltinOptions.Conv2DOptions, b.endObject()];
    case 'depthwise':
      // DepthwiseConv2DOptions { padding, stride_w, stride_h, depth_multiplier, fused_activation_function, dilation_w_factor, dilation_h_factor }
      b.startObject(7);
      b.addFieldInt8(0, o.padding, 0);
      b.addFieldInt32(1, o.strideW, 0);
      b.addFieldInt32(2, o.strideH, 0);
      b.addFieldInt32(3, 1, 0);
      b.addFieldInt8(4, o.activation, 0);
      return [BuiltinOptions.DepthwiseConv2DOptions, b.endObject()];
    case 'pool':
      // Pool2DOptions { padding, stride_w, stride_h, filter_width, filter_height, fused_activation_function }
      b.startObject(6);
      b.addFieldInt8(0, o.padding, 0);
      b.addFieldInt32(1, o.strideW, 0);
      b.addFieldInt32(2, o.strideH, 0);
      b.addFieldInt32(3, o.filterW, 0);
      b.addFieldInt32(4, o.filterH, 0);
      return [BuiltinOptions.Pool2DOptions, b.endObject()];
    case 'fc':
      // FullyConnectedOptions { fused_activation_function, weights_format, keep_num_dims, ... }
      b.startObject(3);
      b.addFieldInt8(0, o.activation, 0);
      return [BuiltinOptions.FullyConnectedOptions, b.endObject()];
    case 'softmax':
      // SoftmaxOptions { beta }
      b.startObject(1);
      b.addFieldFloat32(0, 1, 0);
      return [BuiltinOptions.SoftmaxOptions, b.endObject()];
    case 'add':
    case 'mul':
      // AddOptions / MulOptions { fused_activation_function }
      b.startObject(1);
      b.addFieldInt8(0, o.activation, 0);
      return [o.type === 'add' ? BuiltinOptions.AddOptions : BuiltinOptions.MulOptions, b.endObject()];
    case 'pad':
      b.startObject(0);
      return [BuiltinOptions.PadOptions, b.endObject()];
    case 'reducer':
      // ReducerOptions { keep_dims }
      b.startObject(1);
      b.addFieldInt8(0, o.keepDims ? 1 : 0, 0);
      return [BuiltinOptions.ReducerOptions, b.endObject()];
  }
}

/** Operator { opcode_index, inputs, outputs, builtin_options_type, builtin_options, ... } */
export function operator(b: Builder, op: { opcodeIndex: number; inputs: number[]; outputs: number[]; options: OptionsSpec }): Offset {
  const inputs = intVector(b, op.inputs);
  const outputs = intVector(b, op.outputs);
  const [optType, opt] = options(b, op.options);
  b.startObject(5);
  b.addFieldInt32(0, op.opcodeIndex, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  b.addFieldInt8(3, optType, 0);
  if (opt) b.addFieldOffset(4, opt, 0);
  return b.endObject();
}

/** SubGraph { tensors, inputs, outputs, operators, name } */
export function subGraph(b: Builder, g: { tensors: Offset[]; inputs: number[]; outputs: number[]; operators: Offset[]; name: string }): Offset {
  const tensors = offsetVector(b, g.tensors);
  const inputs = intVector(b, g.inputs);
  const outputs = intVector(b, g.outputs);
  const operators = offsetVector(b, g.operators);
  const name = b.createString(g.name);
  b.startObject(5);
  b.addFieldOffset(0, tensors, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  b.addFieldOffset(3, operators, 0);
  b.addFieldOffset(4, name, 0);
  return b.endObject();
}

/** Model { version, operator_codes, subgraphs, description, buffers }, finished with "TFL3". */
export function finishModel(b: Builder, m: { operatorCodes: Offset[]; subgraphs: Offset[]; description: string; buffers: Offset[] }): Uint8Array {
  const codes = offsetVector(b, m.operatorCodes);
  const subgraphs = offsetVector(b, m.subgraphs);
  const description = b.createString(m.description);
  const buffers = offsetVector(b, m.buffers);
  b.startObject(5);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, codes, 0);
  b.addFieldOffset(2, subgraphs, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, buffers, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

export { Builder };
