// ExportGraph → a .tflite FlatBuffer (batch 1, NHWC, float32 in [0,255] in, float32 probabilities
// out). Three weight/activation modes:
//   none     float32 everywhere; the input normalization is a MUL + ADD.
//   float16  weights and biases stored as float16, each behind a DEQUANTIZE (what TFLite's own
//            float16 conversion writes), so the file is half the size and runs in float32.
//   int8     full-integer per the TFLite int8 spec (see calibrate.ts): float32 in, the input
//            normalization, a QUANTIZE, int8 ops, a DEQUANTIZE, float32 probabilities out.
// Zero padding the runtime's SAME cannot express (torch-style symmetric padding at stride 2) is a
// PAD + VALID conv.
import type { Activation, ExportGraph, ExportOp, Padding as GraphPadding, ValueName } from '../graph.js';
import { float32ToFloat16Bits } from '../../data/float16.js';
import {
  activationParams, quantizeBias, quantizeSymmetricPerChannel, quantizeSymmetricPerTensor, type ActivationRanges, type QuantParams,
} from '../calibrate.js';
import {
  Builder, BuiltinOperator, FusedActivation, Padding, TensorType, buffer, finishModel, operator, operatorCode, subGraph, tensor,
  type BuiltinOperatorValue, type OptionsSpec, type QuantizationSpec, type TensorTypeValue,
} from './schema.js';

export const TFLITE_QUANTIZE = ['none', 'float16', 'int8'] as const;
export type TfliteQuantize = (typeof TFLITE_QUANTIZE)[number];

export interface TfliteOptions {
  quantize: TfliteQuantize;
  /** Activation ranges per graph value (calibrate.ts); required for int8. */
  ranges?: ActivationRanges;
  description?: string;
}

interface TensorSpec {
  shape: number[];
  type: TensorTypeValue;
  buffer: number;
  name: string;
  quantization?: QuantizationSpec;
}

interface OpSpec {
  code: BuiltinOperatorValue;
  version: number;
  inputs: number[];
  outputs: number[];
  options: OptionsSpec;
}

const FUSED: Record<Activation, number> = { linear: FusedActivation.NONE, relu: FusedActivation.RELU, relu6: FusedActivation.RELU6 };

function bytes(a: Float32Array | Int32Array | Int8Array | Uint16Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** tfjs 'same' padding along one axis (before, after). */
function samePad(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** 'SAME' or 'VALID' when the explicit padding is exactly what the runtime computes for one of them. */
function paddingMode(p: GraphPadding, inShape: number[], kernel: [number, number], strides: [number, number]): 'SAME' | 'VALID' | null {
  if (p.top === 0 && p.bottom === 0 && p.left === 0 && p.right === 0) return 'VALID';
  const [t, b] = samePad(inShape[0]!, kernel[0], strides[0]);
  const [l, r] = samePad(inShape[1]!, kernel[1], strides[1]);
  return p.top === t && p.bottom === b && p.left === l && p.right === r ? 'SAME' : null;
}

/** Row-major transpose of `a` with shape `shape` by permutation `perm`. */
function transpose<T extends Float32Array | Int8Array>(a: T, shape: number[], perm: number[]): T {
  const outShape = perm.map((p) => shape[p]!);
  const stride = shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
  const out = new (a.constructor as { new (n: number): T })(a.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < a.length; o++) {
    let rem = o;
    let src = 0;
    for (let d = outShape.length - 1; d >= 0; d--) {
      idx[d] = rem % outShape[d]!;
      rem = Math.floor(rem / outShape[d]!);
    }
    for (let d = 0; d < perm.length; d++) src += idx[d]! * stride[perm[d]!]!;
    out[o] = a[src]!;
  }
  return out;
}

export function writeTflite(graph: ExportGraph, options: TfliteOptions): Uint8Array {
  const { quantize } = options;
  const int8 = quantize === 'int8';
  if (int8 && !options.ranges) throw new Error('int8 export needs calibration ranges');
  const buffers: (Uint8Array | null)[] = [null]; // buffer 0: the empty sentinel every activation points to
  const tensors: TensorSpec[] = [];
  const ops: OpSpec[] = [];
  const tensorOf = new Map<ValueName, number>();
  const qp = new Map<ValueName, QuantParams>();

  const addTensor = (t: Omit<TensorSpec, 'buffer'>, data?: Uint8Array): number => {
    let buf = 0;
    if (data) {
      buffers.push(data);
      buf = buffers.length - 1;
    }
    tensors.push({ ...t, buffer: buf });
    return tensors.length - 1;
  };
  const addOp = (code: BuiltinOperatorValue, inputs: number[], outputs: number[], opts: OptionsSpec = { type: 'none' }, int8Version = 2): void => {
    ops.push({ code, version: int8 ? int8Version : 1, inputs, outputs, options: opts });
  };
  const shapeOf = (v: ValueName): number[] => [1, ...graph.shapes[v]!];
  const q = (p: QuantParams): QuantizationSpec => ({ scale: [p.scale], zeroPoint: [p.zeroPoint] });

  /** int8 parameters of a value: calibrated, or inherited where the spec ties output to input. */
  const paramsOf = (v: ValueName): QuantParams => {
    let p = qp.get(v);
    if (!p) {
      const r = options.ranges!.get(v);
      if (!r) throw new Error(`int8 export: no calibration range for "${v}"`);
      p = activationParams(r);
      qp.set(v, p);
    }
    return p;
  };
  const valueTensor = (v: ValueName): number => {
    const known = tensorOf.get(v);
    if (known !== undefined) return known;
    const t = int8
      ? addTensor({ shape: shapeOf(v), type: TensorType.INT8, name: v, quantization: q(paramsOf(v)) })
      : addTensor({ shape: shapeOf(v), type: TensorType.FLOAT32, name: v });
    tensorOf.set(v, t);
    return t;
  };
  /** A float constant: float32, or float16 behind a DEQUANTIZE when weights are float16. */
  const floatConst = (name: string, shape: number[], data: Float32Array, halve: boolean): number => {
    if (!halve) return addTensor({ shape, type: TensorType.FLOAT32, name }, bytes(data));
    const half = Uint16Array.from(data, (v) => float32ToFloat16Bits(v));
    const h = addTensor({ shape, type: TensorType.FLOAT16, name: `${name}_fp16` }, bytes(half));
    const f = addTensor({ shape, type: TensorType.FLOAT32, name });
    ops.push({ code: BuiltinOperator.DEQUANTIZE, version: 3, inputs: [h], outputs: [f], options: { type: 'none' } });
    return f;
  };
  const int32Const = (name: string, shape: number[], data: number[]): number => addTensor({ shape, type: TensorType.INT32, name }, bytes(Int32Array.from(data)));

  // Graph input: float32 [1,S,S,3] in [0,255].
  const S = graph.input.size;
  const inputTensor = addTensor({ shape: [1, S, S, 3], type: TensorType.FLOAT32, name: graph.input.name });
  let ops0 = graph.ops;
  if (int8) {
    // The input normalization stays in float32 (two elementwise ops on the image), then one
    // QUANTIZE into the normalized range: exact, where folding it into the first conv is not
    // (a conv pads the normalized input with 0, which is no raw pixel value).
    const first = ops0[0];
    let x = inputTensor;
    let v = graph.input.name;
    if (first && first.kind === 'affine' && first.input === graph.input.name) {
      x = addTensor({ shape: [1, S, S, 3], type: TensorType.FLOAT32, name: `${first.output}_float` });
      affineFloat(first, inputTensor, x);
      v = first.output;
      ops0 = ops0.slice(1);
    } else {
      qp.set(v, activationParams({ min: 0, max: 255 }));
    }
    addOp(BuiltinOperator.QUANTIZE, [x], [valueTensor(v)], { type: 'none' }, 2);
  } else {
    tensorOf.set(graph.input.name, inputTensor);
  }

  function affineFloat(op: Extract<ExportOp, { kind: 'affine' }>, input: number, output: number): void {
    const c = graph.shapes[op.input]!.at(-1)!;
    const shape = [1, ...graph.shapes[op.input]!];
    const scaled = addTensor({ shape, type: TensorType.FLOAT32, name: `${op.output}_scaled` });
    const sc = addTensor({ shape: [op.scale.length], type: TensorType.FLOAT32, name: `${op.name}_scale` }, bytes(op.scale));
    const of = addTensor({ shape: [op.offset.length], type: TensorType.FLOAT32, name: `${op.name}_offset` }, bytes(op.offset));
    if (op.scale.length !== 1 && op.scale.length !== c) throw new Error(`affine "${op.name}": ${op.scale.length} scales for ${c} channels`);
    ops.push({ code: BuiltinOperator.MUL, version: 1, inputs: [input, sc], outputs: [scaled], options: { type: 'mul', activation: FusedActivation.NONE } });
    ops.push({ code: BuiltinOperator.ADD, version: 1, inputs: [scaled, of], outputs: [output], options: { type: 'add', activation: FusedActivation.NONE } });
  }

  for (const op of ops0) lowerOp(op);

  function inheritParams(from: ValueName, to: ValueName): void {
    if (int8) qp.set(to, paramsOf(from));
  }

  /** Explicit PAD (zeros: in int8 the zero point, which is real 0) to a new value. */
  function padValue(x: ValueName, p: GraphPadding, name: string): ValueName {
    const v = `${name}_padded`;
    const [h, w, c] = graph.shapes[x]!;
    graph.shapes[v] = [h! + p.top + p.bottom, w! + p.left + p.right, c!];
    inheritParams(x, v);
    const paddings = int32Const(`${name}_paddings`, [4, 2], [0, 0, p.top, p.bottom, p.left, p.right, 0, 0]);
    addOp(BuiltinOperator.PAD, [valueTensor(x), paddings], [valueTensor(v)], { type: 'pad' });
    return v;
  }

  function lowerOp(op: ExportOp): void {
    switch (op.kind) {
      case 'affine':
        if (int8) throw new Error(`int8 export: normalization "${op.name}" is not on the model input (only there does it stay float)`);
        affineFloat(op, valueTensor(op.input), valueTensor(op.output));
        return;
      case 'conv2d':
      case 'depthwise': {
        const [kh, kw, cin, last] = op.filterShape;
        const cout = op.kind === 'depthwise' ? cin : last;
        let x = op.input;
        let mode = paddingMode(op.padding, graph.shapes[x]!, [kh, kw], op.strides);
        if (!mode) {
          x = padValue(x, op.padding, op.name);
          mode = 'VALID';
        }
        // TFLite layouts: conv [Cout,KH,KW,Cin]; depthwise [1,KH,KW,C] (the same bytes as tfjs's [KH,KW,C,1]).
        const wShape = op.kind === 'depthwise' ? [1, kh, kw, cin] : [cout, kh, kw, cin];
        const perm = [3, 0, 1, 2];
        let w: number;
        let b: number;
        if (int8) {
          const { q: qw, scales } = quantizeSymmetricPerChannel(op.filter, cout);
          const data = op.kind === 'depthwise' ? qw : transpose(qw, [kh, kw, cin, cout], perm);
          w = addTensor({ shape: wShape, type: TensorType.INT8, name: `${op.name}_filter`, quantization: { scale: [...scales], zeroPoint: Array.from(scales, () => 0), quantizedDimension: op.kind === 'depthwise' ? 3 : 0 } }, bytes(data));
          const qb = quantizeBias(op.bias, paramsOf(x).scale, scales);
          b = addTensor({ shape: [cout], type: TensorType.INT32, name: `${op.name}_bias`, quantization: { scale: [...qb.scales], zeroPoint: Array.from(qb.scales, () => 0), quantizedDimension: 0 } }, bytes(qb.q));
        } else {
          const data = op.kind === 'depthwise' ? op.filter : transpose(op.filter, [kh, kw, cin, cout], perm);
          w = floatConst(`${op.name}_filter`, wShape, data, quantize === 'float16');
          b = floatConst(`${op.name}_bias`, [cout], op.bias, quantize === 'float16');
        }
        const common = { padding: mode === 'SAME' ? Padding.SAME : Padding.VALID, strideW: op.strides[1], strideH: op.strides[0], activation: FUSED[op.activation] };
        if (op.kind === 'depthwise') addOp(BuiltinOperator.DEPTHWISE_CONV_2D, [valueTensor(x), w, b], [valueTensor(op.output)], { type: 'depthwise', ...common }, 3);
        else addOp(BuiltinOperator.CONV_2D, [valueTensor(x), w, b], [valueTensor(op.output)], { type: 'conv', ...common }, 3);
        return;
      }
      case 'dense': {
        const [cin, cout] = op.kernelShape;
        let w: number;
        let b: number;
        if (int8) {
          const { q: qw, scale } = quantizeSymmetricPerTensor(op.kernel);
          w = addTensor({ shape: [cout, cin], type: TensorType.INT8, name: `${op.name}_kernel`, quantization: { scale: [scale], zeroPoint: [0] } }, bytes(transpose(qw, [cin, cout], [1, 0])));
          const qb = quantizeBias(op.bias, paramsOf(op.input).scale, [scale]);
          b = addTensor({ shape: [cout], type: TensorType.INT32, name: `${op.name}_bias`, quantization: { scale: [qb.scales[0]!], zeroPoint: [0] } }, bytes(qb.q));
        } else {
          w = floatConst(`${op.name}_kernel`, [cout, cin], transpose(op.kernel, [cin, cout], [1, 0]), quantize === 'float16');
          b = floatConst(`${op.name}_bias`, [cout], op.bias, quantize === 'float16');
        }
        addOp(BuiltinOperator.FULLY_CONNECTED, [valueTensor(op.input), w, b], [valueTensor(op.output)], { type: 'fc', activation: FUSED[op.activation] }, 4);
        return;
      }
      case 'add':
        addOp(BuiltinOperator.ADD, [valueTensor(op.inputs[0]), valueTensor(op.inputs[1])], [valueTensor(op.output)], { type: 'add', activation: FUSED[op.activation] });
        return;
      case 'relu':
      case 'relu6':
        addOp(op.kind === 'relu' ? BuiltinOperator.RELU : BuiltinOperator.RELU6, [valueTensor(op.input)], [valueTensor(op.output)]);
        return;
      case 'pad': {
        inheritParams(op.input, op.output);
        const p = op.padding;
        const paddings = int32Const(`${op.name}_paddings`, [4, 2], [0, 0, p.top, p.bottom, p.left, p.right, 0, 0]);
        addOp(BuiltinOperator.PAD, [valueTensor(op.input), paddings], [valueTensor(op.output)], { type: 'pad' });
        return;
      }
      case 'maxpool': {
        const mode = paddingMode(op.padding, graph.shapes[op.input]!, op.size, op.strides);
        if (!mode) throw new Error(`TFLite export: max pool "${op.name}" has padding neither SAME nor VALID`);
        inheritParams(op.input, op.output);
        addOp(BuiltinOperator.MAX_POOL_2D, [valueTensor(op.input)], [valueTensor(op.output)], {
          type: 'pool', padding: mode === 'SAME' ? Padding.SAME : Padding.VALID, strideW: op.strides[1], strideH: op.strides[0], filterW: op.size[1], filterH: op.size[0],
        });
        return;
      }
      case 'gap': {
        const axes = int32Const(`${op.name}_axes`, [2], [1, 2]);
        addOp(BuiltinOperator.MEAN, [valueTensor(op.input), axes], [valueTensor(op.output)], { type: 'reducer', keepDims: false });
        return;
      }
      case 'softmax':
        // The spec fixes int8 softmax output at scale 1/256, zero point −128.
        if (int8) qp.set(op.output, { scale: 1 / 256, zeroPoint: -128 });
        addOp(BuiltinOperator.SOFTMAX, [valueTensor(op.input)], [valueTensor(op.output)], { type: 'softmax' });
        return;
      default: {
        const never: never = op;
        throw new Error(`TFLite export: no op for ${JSON.stringify((never as ExportOp).kind)}`);
      }
    }
  }

  let outputTensor = valueTensor(graph.output.name);
  if (int8) {
    const f = addTensor({ shape: shapeOf(graph.output.name), type: TensorType.FLOAT32, name: `${graph.output.name}_float` });
    addOp(BuiltinOperator.DEQUANTIZE, [outputTensor], [f], { type: 'none' }, 2);
    outputTensor = f;
  }
  return serialize(buffers, tensors, ops, inputTensor, outputTensor, options.description ?? 'Distill Studio export');
}

function serialize(bufs: (Uint8Array | null)[], tensors: TensorSpec[], ops: OpSpec[], input: number, output: number, description: string): Uint8Array {
  const size = bufs.reduce((n, d) => n + (d ? d.length + 16 : 16), 0) + tensors.length * 128 + ops.length * 96 + 4096;
  const b = new Builder(size);
  const codes: { code: BuiltinOperatorValue; version: number }[] = [];
  const codeIndex = new Map<BuiltinOperatorValue, number>();
  for (const op of ops) {
    const i = codeIndex.get(op.code);
    if (i === undefined) {
      codeIndex.set(op.code, codes.length);
      codes.push({ code: op.code, version: op.version });
    } else codes[i]!.version = Math.max(codes[i]!.version, op.version);
  }
  const bufferOffsets = bufs.map((d) => buffer(b, d));
  const tensorOffsets = tensors.map((t) => tensor(b, t));
  const opOffsets = ops.map((o) => operator(b, { opcodeIndex: codeIndex.get(o.code)!, inputs: o.inputs, outputs: o.outputs, options: o.options }));
  const sg = subGraph(b, { tensors: tensorOffsets, inputs: [input], outputs: [output], operators: opOffsets, name: 'main' });
  const codeOffsets = codes.map((c) => operatorCode(b, c.code, c.version));
  return finishModel(b, { operatorCodes: codeOffsets, subgraphs: [sg], description, buffers: bufferOffsets });
}
