// ExportGraph → ONNX (opset 13, IR 8: what onnxruntime 1.x and ONNX Runtime Mobile run).
// The input keeps the contract every format shares: "image", NHWC [N,S,S,3] float32 RGB in [0,255],
// dynamic batch; a Transpose to NCHW inside the model, then the graph's ops in NCHW. One output,
// "probabilities", float32 [N, classes].
// Quantize: none; float16 (weights and biases stored as float16 initializers, each Cast back to
// float32, so CPU runtimes run it and the input/output stay float32); int8 as QDQ: every activation
// goes through QuantizeLinear/DequantizeLinear (asymmetric uint8 from calibrated ranges), conv
// weights are per-output-channel symmetric int8 (axis 0), dense weights per-tensor symmetric int8,
// biases int32 at input scale × weight scale — the layout ONNX Runtime fuses into QLinearConv/QGemm.
import type { ExportGraph, ExportOp, ValueName, Activation, Padding } from '../graph.js';
import { float32ToFloat16Bits } from '../../data/float16.js';
import { DataType, encodeModel, floatTensor, int64Tensor, node, tensor, valueInfo, type NodeProto, type TensorProto } from './proto.js';

export type OnnxQuantize = 'none' | 'float16' | 'int8';
export interface ValueRange { min: number; max: number }

export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUT = 'image';
export const ONNX_OUTPUT = 'probabilities';

export interface OnnxWriteOptions {
  quantize: OnnxQuantize;
  /** Calibrated range of every value the graph computes (required for int8). */
  ranges?: Record<ValueName, ValueRange>;
  /** Also output every computed value (float, before any QDQ), named as in the graph: for calibration. */
  exposeValues?: boolean;
  /** Stored as model metadata_props (e.g. classes). */
  metadata?: Record<string, string>;
}

interface QParams { scale: number; zeroPoint: number }

/** Asymmetric uint8 parameters for a range (widened to include 0 so zero stays exact). */
export function uint8QParams(r: ValueRange): QParams {
  const min = Math.min(r.min, 0);
  const max = Math.max(r.max, 0);
  const scale = max > min ? (max - min) / 255 : 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-min / scale)));
  return { scale, zeroPoint };
}

/** Symmetric int8 quantization of `count` slices of `values` (slice c = every index with (i / inner) % count == c). */
export function symmetricInt8(values: Float32Array, count: number, inner: number): { q: Int8Array; scales: Float32Array } {
  const absMax = new Float64Array(count);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % count;
    absMax[c] = Math.max(absMax[c]!, Math.abs(values[i]!));
  }
  const scales = new Float32Array(count);
  for (let c = 0; c < count; c++) scales[c] = absMax[c]! > 0 ? absMax[c]! / 127 : 1;
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % count;
    q[i] = Math.max(-127, Math.min(127, Math.round(values[i]! / scales[c]!)));
  }
  return { q, scales };
}

/** [KH,KW,Cin,Cout] (tfjs) → [Cout,Cin,KH,KW] (ONNX). */
function filterToOihw(f: Float32Array, [kh, kw, cin, cout]: readonly number[]): Float32Array {
  const out = new Float32Array(f.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < cin!; i++)
        for (let o = 0; o < cout!; o++) out[((o * cin! + i) * kh! + y) * kw! + x] = f[((y * kw! + x) * cin! + i) * cout! + o]!;
  return out;
}

/** Depthwise [KH,KW,C,1] → [C,1,KH,KW]. */
function depthwiseToOihw(f: Float32Array, [kh, kw, c]: readonly number[]): Float32Array {
  const out = new Float32Array(f.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++) for (let ch = 0; ch < c!; ch++) out[(ch * kh! + y) * kw! + x] = f[(y * kw! + x) * c! + ch]!;
  return out;
}

function toFloat16(v: Float32Array): Uint16Array {
  const out = new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = float32ToFloat16Bits(v[i]!);
  return out;
}

const pads = (p: Padding): number[] => [p.top, p.left, p.bottom, p.right];

class OnnxBuilder {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  /** Graph value → the ONNX tensor its consumers read (the DQ output under int8). */
  private readonly read = new Map<ValueName, string>();
  /** Graph value → the float ONNX tensor that computes it (before any QDQ). */
  readonly computed = new Map<ValueName, string>();
  private readonly rank = new Map<ValueName, number>();
  private readonly qparams = new Map<ValueName, QParams>();
  private counter = 0;

  constructor(private readonly g: ExportGraph, private readonly opts: OnnxWriteOptions) {}

  private fresh(base: string): string {
    return `${base}__${this.counter++}`;
  }

  private input(v: ValueName, op: string): string {
    const t = this.read.get(v);
    if (!t) throw new Error(`export graph: op "${op}" reads "${v}", which no earlier op computes`);
    return t;
  }

  private scalar(name: string, v: number): string {
    this.inits.push(floatTensor(name, [], new Float32Array([v])));
    return name;
  }

  /** A weight initializer as float32, or float16 + Cast; returns the float32 tensor name. */
  private floatWeight(name: string, dims: number[], data: Float32Array): string {
    if (this.opts.quantize !== 'float16') {
      this.inits.push(floatTensor(name, dims, data));
      return name;
    }
    this.inits.push(tensor(`${name}_f16`, DataType.FLOAT16, dims, toFloat16(data)));
    this.nodes.push(node('Cast', [`${name}_f16`], [name], `${name}_cast`, { to: DataType.FLOAT }));
    return name;
  }

  /** Int8 symmetric weight + DequantizeLinear; per channel along axis 0 when `perChannel`. */
  private int8Weight(name: string, dims: number[], data: Float32Array, channels: number, inner: number): { name: string; scales: Float32Array } {
    const { q, scales } = symmetricInt8(data, channels, inner);
    const perChannel = channels > 1;
    this.inits.push(tensor(`${name}_q`, DataType.INT8, dims, q));
    this.inits.push(floatTensor(`${name}_scale`, perChannel ? [channels] : [], scales));
    this.inits.push(tensor(`${name}_zp`, DataType.INT8, perChannel ? [channels] : [], new Int8Array(channels)));
    this.nodes.push(node('DequantizeLinear', [`${name}_q`, `${name}_scale`, `${name}_zp`], [name], `${name}_dq`, perChannel ? { axis: 0 } : {}));
    return { name, scales };
  }

  /** Int32 bias at scale inputScale × weightScale[c] (zero point 0), dequantized. */
  private int32Bias(name: string, bias: Float32Array, inputScale: number, weightScales: Float32Array): string {
    const n = bias.length;
    const scales = new Float32Array(n);
    const q = new Int32Array(n);
    for (let c = 0; c < n; c++) {
      scales[c] = inputScale * weightScales[weightScales.length === 1 ? 0 : c]!;
      q[c] = Math.max(-2147483647, Math.min(2147483647, Math.round(bias[c]! / scales[c]!)));
    }
    this.inits.push(tensor(`${name}_q`, DataType.INT32, [n], q));
    this.inits.push(floatTensor(`${name}_scale`, [n], scales));
    this.inits.push(tensor(`${name}_zp`, DataType.INT32, [n], new Int32Array(n)));
    this.nodes.push(node('DequantizeLinear', [`${name}_q`, `${name}_scale`, `${name}_zp`], [name], `${name}_dq`, { axis: 0 }));
    return name;
  }

  private activation(x: string, act: Activation, out: string, name: string): void {
    if (act === 'linear') {
      this.nodes.push(node('Identity', [x], [out], `${name}_id`));
    } else if (act === 'relu') {
      this.nodes.push(node('Relu', [x], [out], `${name}_relu`));
    } else {
      const lo = this.scalar(`${name}_clip_min`, 0);
      const hi = this.scalar(`${name}_clip_max`, 6);
      this.nodes.push(node('Clip', [x, lo, hi], [out], `${name}_relu6`));
    }
  }

  private tensorName(v: ValueName): string {
    return v === this.g.output.name ? ONNX_OUTPUT : v;
  }

  /** Records a computed value; under int8 (except the final output) adds its QuantizeLinear/DequantizeLinear pair. */
  private produced(v: ValueName, tensorName: string, rank: number, qp?: QParams): void {
    this.computed.set(v, tensorName);
    this.rank.set(v, rank);
    if (this.opts.quantize !== 'int8' || v === this.g.output.name) {
      this.read.set(v, tensorName);
      return;
    }
    const params = qp ?? this.rangeParams(v);
    this.qparams.set(v, params);
    const s = this.scalar(`${tensorName}_qscale`, params.scale);
    const zp = `${tensorName}_qzp`;
    this.inits.push(tensor(zp, DataType.UINT8, [], new Uint8Array([params.zeroPoint])));
    this.nodes.push(node('QuantizeLinear', [tensorName, s, zp], [`${tensorName}_q`], `${tensorName}_quant`));
    this.nodes.push(node('DequantizeLinear', [`${tensorName}_q`, s, zp], [`${tensorName}_dq`], `${tensorName}_dequant`));
    this.read.set(v, `${tensorName}_dq`);
  }

  private rangeParams(v: ValueName): QParams {
    const r = this.opts.ranges?.[v];
    if (!r) throw new Error(`int8 export: no calibrated range for "${v}"`);
    return uint8QParams(r);
  }

  private inputScale(v: ValueName): number {
    const q = this.qparams.get(v);
    if (!q) throw new Error(`int8 export: "${v}" has no quantization parameters`);
    return q.scale;
  }

  build(): void {
    const nchw = `${ONNX_INPUT}_nchw`;
    this.nodes.push(node('Transpose', [ONNX_INPUT], [nchw], 'input_to_nchw', { perm: [0, 3, 1, 2] }));
    // The raw input is not quantized: [0,255] floats are what every format receives.
    this.read.set(this.g.input.name, nchw);
    this.computed.set(this.g.input.name, nchw);
    this.rank.set(this.g.input.name, 4);
    for (const op of this.g.ops) this.op(op);
    if (!this.read.has(this.g.output.name)) throw new Error(`export graph: no op computes the output "${this.g.output.name}"`);
  }

  private op(op: ExportOp): void {
    const out = this.tensorName(op.output);
    switch (op.kind) {
      case 'affine': {
        const x = this.input(op.input, op.name);
        const rank = this.rank.get(op.input)!;
        const c = op.scale.length;
        const dims = c === 1 ? [1] : rank === 4 ? [1, c, 1, 1] : [c];
        this.inits.push(floatTensor(`${op.name}_scale`, dims, op.scale));
        this.inits.push(floatTensor(`${op.name}_offset`, op.offset.length === 1 ? [1] : dims, op.offset));
        const mid = this.fresh(`${op.name}_mul`);
        this.nodes.push(node('Mul', [x, `${op.name}_scale`], [mid], `${op.name}_mul`));
        this.nodes.push(node('Add', [mid, `${op.name}_offset`], [out], `${op.name}_add`));
        this.produced(op.output, out, rank);
        return;
      }
      case 'conv2d':
      case 'depthwise': {
        const x = this.input(op.input, op.name);
        const [kh, kw, cin, last] = op.filterShape;
        const cout = op.kind === 'conv2d' ? last : cin;
        const oihw = op.kind === 'conv2d' ? filterToOihw(op.filter, op.filterShape) : depthwiseToOihw(op.filter, op.filterShape);
        const wDims = op.kind === 'conv2d' ? [cout, cin, kh, kw] : [cin, 1, kh, kw];
        let w: string;
        let b: string;
        if (this.opts.quantize === 'int8') {
          const wq = this.int8Weight(`${op.name}_w`, wDims, oihw, cout, oihw.length / cout);
          w = wq.name;
          b = this.int32Bias(`${op.name}_b`, op.bias, this.inputScale(op.input), wq.scales);
        } else {
          w = this.floatWeight(`${op.name}_w`, wDims, oihw);
          b = this.floatWeight(`${op.name}_b`, [cout], op.bias);
        }
        const conv = op.activation === 'linear' ? out : this.fresh(`${op.name}_conv`);
        this.nodes.push(
          node('Conv', [x, w, b], [conv], op.name, {
            kernel_shape: [kh, kw], strides: op.strides, pads: pads(op.padding), dilations: [1, 1],
            group: op.kind === 'depthwise' ? cin : 1,
          }),
        );
        if (op.activation !== 'linear') this.activation(conv, op.activation, out, op.name);
        this.produced(op.output, out, 4);
        return;
      }
      case 'add': {
        const a = this.input(op.inputs[0], op.name);
        const c = this.input(op.inputs[1], op.name);
        const sum = op.activation === 'linear' ? out : this.fresh(`${op.name}_sum`);
        this.nodes.push(node('Add', [a, c], [sum], op.name));
        if (op.activation !== 'linear') this.activation(sum, op.activation, out, op.name);
        this.produced(op.output, out, this.rank.get(op.inputs[0])!);
        return;
      }
      case 'relu':
      case 'relu6': {
        this.activation(this.input(op.input, op.name), op.kind, out, op.name);
        this.produced(op.output, out, this.rank.get(op.input)!);
        return;
      }
      case 'maxpool': {
        this.nodes.push(
          node('MaxPool', [this.input(op.input, op.name)], [out], op.name, { kernel_shape: op.size, strides: op.strides, pads: pads(op.padding) }),
        );
        // Max never leaves its input's range: same quantization parameters, so the pool runs on uint8.
        this.produced(op.output, out, 4, this.qparams.get(op.input));
        return;
      }
      case 'pad': {
        const p = op.padding;
        this.inits.push(int64Tensor(`${op.name}_pads`, [0, 0, p.top, p.left, 0, 0, p.bottom, p.right]));
        this.nodes.push(node('Pad', [this.input(op.input, op.name), `${op.name}_pads`], [out], op.name, { mode: 'constant' }));
        // Zero padding adds zeros, which every calibrated range includes: the input's parameters hold.
        this.produced(op.output, out, 4, this.qparams.get(op.input));
        return;
      }
      case 'gap': {
        const pooled = this.fresh(`${op.name}_pool`);
        this.nodes.push(node('GlobalAveragePool', [this.input(op.input, op.name)], [pooled], op.name));
        this.nodes.push(node('Flatten', [pooled], [out], `${op.name}_flatten`, { axis: 1 }));
        this.produced(op.output, out, 2);
        return;
      }
      case 'dense': {
        const x = this.input(op.input, op.name);
        const [cin, cout] = op.kernelShape;
        let w: string;
        let b: string;
        if (this.opts.quantize === 'int8') {
          const wq = this.int8Weight(`${op.name}_w`, [cin, cout], op.kernel, 1, op.kernel.length);
          w = wq.name;
          b = this.int32Bias(`${op.name}_b`, op.bias, this.inputScale(op.input), wq.scales);
        } else {
          w = this.floatWeight(`${op.name}_w`, [cin, cout], op.kernel);
          b = this.floatWeight(`${op.name}_b`, [cout], op.bias);
        }
        const y = op.activation === 'linear' ? out : this.fresh(`${op.name}_gemm`);
        this.nodes.push(node('Gemm', [x, w, b], [y], op.name, { transB: 0 }));
        if (op.activation !== 'linear') this.activation(y, op.activation, out, op.name);
        this.produced(op.output, out, 2);
        return;
      }
      case 'softmax': {
        this.nodes.push(node('Softmax', [this.input(op.input, op.name)], [out], op.name, { axis: -1 }));
        this.produced(op.output, out, this.rank.get(op.input)!);
        return;
      }
      default: {
        const unknown: never = op;
        throw new Error(`ONNX export: no mapping for op ${JSON.stringify((unknown as { kind: string }).kind)}`);
      }
    }
  }
}

/** The ONNX file's bytes for a graph. */
export function writeOnnx(graph: ExportGraph, opts: OnnxWriteOptions): Uint8Array {
  if (opts.quantize === 'int8' && !opts.ranges) throw new Error('int8 export needs calibrated activation ranges');
  const b = new OnnxBuilder(graph, opts);
  b.build();
  const s = graph.input.size;
  const outputs = [valueInfo(ONNX_OUTPUT, ['N', graph.output.classes])];
  if (opts.exposeValues) {
    for (const [v, t] of b.computed) if (v !== graph.input.name && t !== ONNX_OUTPUT) outputs.push({ name: t, type: { tensorType: { elemType: DataType.FLOAT } } });
  }
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'Distill Studio',
    graph: {
      name: 'student',
      node: b.nodes,
      initializer: b.inits,
      input: [valueInfo(ONNX_INPUT, ['N', s, s, graph.input.channels])],
      output: outputs,
    },
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}

/** The ONNX tensor names under which `exposeValues` outputs each graph value. */
export function exposedValueNames(graph: ExportGraph): ValueName[] {
  return graph.ops.map((o) => o.output).filter((v) => v !== graph.output.name);
}
