// Small ONNX models written by the tests themselves (onnx-proto; no Python, no downloads): a generic
// builder, a tiny image classifier (Conv → Relu → GlobalAveragePool → Flatten → Gemm | MatMul+Add
// [→ Softmax]) with an NCHW input or an NHWC input transposed inside the graph, its float64 reference
// forward pass, and models that are not image classifiers (for refusal messages).
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

export type Dim = number | string;

export interface GraphSpec {
  inputs: { name: string; dims: Dim[]; elemType?: number }[];
  outputs: { name: string; dims?: Dim[] }[];
  nodes: { op: string; inputs: string[]; outputs: string[]; attrs?: Record<string, number | number[]> }[];
  initializers: { name: string; dims: number[]; data: Float32Array | number[]; int64?: boolean }[];
  opset?: number;
}

function valueInfo(name: string, dims: Dim[] | undefined, elemType = FLOAT): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined } },
  };
}

function attribute(name: string, v: number | number[]): onnxProto.onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
}

/** Encodes a graph as ModelProto bytes (IR 8, opset 13 unless told). */
export function onnxModel(g: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'distill-tests',
    opsetImport: [{ domain: '', version: g.opset ?? 13 }],
    graph: {
      name: 'g',
      input: g.inputs.map((i) => valueInfo(i.name, i.dims, i.elemType)),
      output: g.outputs.map((o) => valueInfo(o.name, o.dims)),
      node: g.nodes.map((n, k) => ({
        name: `${n.op.toLowerCase()}_${k}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => attribute(name, v)),
      })),
      initializer: g.initializers.map((t) =>
        t.int64
          ? { name: t.name, dims: t.dims, dataType: INT64, int64Data: Array.from(t.data) }
          : { name: t.name, dims: t.dims, dataType: FLOAT, rawData: new Uint8Array(Float32Array.from(t.data).buffer) },
      ),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Weights of the tiny classifier, in ONNX layouts. */
export interface TinyWeights {
  /** Conv kernel [F, 3, K, K] (OIHW) and bias [F]. */
  conv: Float32Array;
  convBias: Float32Array;
  /** Dense kernel [F, C] (y = x·W + b) and bias [C]. */
  dense: Float32Array;
  denseBias: Float32Array;
  filters: number;
  kernel: number;
  classes: number;
}

/** Seeded weights (a small LCG: the same numbers in every run). */
export function tinyWeights(o: { filters: number; classes: number; kernel?: number; seed?: number }): TinyWeights {
  const K = o.kernel ?? 3;
  let s = (o.seed ?? 1) >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const fill = (n: number, scale: number) => Float32Array.from({ length: n }, () => rand() * scale);
  return {
    conv: fill(o.filters * 3 * K * K, 0.6),
    convBias: fill(o.filters, 0.2),
    dense: fill(o.filters * o.classes, 2),
    denseBias: fill(o.classes, 0.5),
    filters: o.filters,
    kernel: K,
    classes: o.classes,
  };
}

export interface TinyClassifierSpec {
  size: number;
  weights: TinyWeights;
  /** NCHW: the input is [N,3,S,S]; NHWC: [N,S,S,3], transposed to NCHW as the graph's first op. */
  layout: 'NCHW' | 'NHWC';
  head?: 'logits' | 'softmax';
  dense?: 'gemm' | 'matmul';
  /** The batch dimension: a symbolic name (dynamic) or a fixed number. */
  batch?: Dim;
  inputName?: string;
  outputName?: string;
}

/** Names of the values inside the tiny classifier (for feature-layer tests). */
export const TINY_VALUES = { relu: 'relu_out', pooled: 'pooled', flat: 'features', logits: 'logits' } as const;

/** Conv (stride 1, 'same' padding) → Relu → GlobalAveragePool → Flatten → dense → [Softmax]. */
export function tinyClassifierOnnx(spec: TinyClassifierSpec): Uint8Array {
  const { size: S, weights: w } = spec;
  const K = w.kernel;
  const input = spec.inputName ?? 'pixels';
  const output = spec.outputName ?? (spec.head === 'softmax' ? 'probs' : 'logits');
  const batch = spec.batch ?? 'N';
  const nodes: GraphSpec['nodes'] = [];
  let x = input;
  if (spec.layout === 'NHWC') {
    nodes.push({ op: 'Transpose', inputs: [input], outputs: ['nchw'], attrs: { perm: [0, 3, 1, 2] } });
    x = 'nchw';
  }
  const p = (K - 1) / 2;
  nodes.push(
    { op: 'Conv', inputs: [x, 'conv_w', 'conv_b'], outputs: ['conv_out'], attrs: { kernel_shape: [K, K], pads: [p, p, p, p], strides: [1, 1] } },
    { op: 'Relu', inputs: ['conv_out'], outputs: [TINY_VALUES.relu] },
    { op: 'GlobalAveragePool', inputs: [TINY_VALUES.relu], outputs: [TINY_VALUES.pooled] },
    { op: 'Flatten', inputs: [TINY_VALUES.pooled], outputs: [TINY_VALUES.flat], attrs: { axis: 1 } },
  );
  const logits = spec.head === 'softmax' ? TINY_VALUES.logits : output;
  if ((spec.dense ?? 'gemm') === 'gemm') {
    nodes.push({ op: 'Gemm', inputs: [TINY_VALUES.flat, 'dense_w', 'dense_b'], outputs: [logits] });
  } else {
    nodes.push({ op: 'MatMul', inputs: [TINY_VALUES.flat, 'dense_w'], outputs: ['matmul_out'] }, { op: 'Add', inputs: ['matmul_out', 'dense_b'], outputs: [logits] });
  }
  if (spec.head === 'softmax') nodes.push({ op: 'Softmax', inputs: [logits], outputs: [output], attrs: { axis: 1 } });
  return onnxModel({
    inputs: [{ name: input, dims: spec.layout === 'NCHW' ? [batch, 3, S, S] : [batch, S, S, 3] }],
    outputs: [{ name: output, dims: [batch, w.classes] }],
    nodes,
    initializers: [
      { name: 'conv_w', dims: [w.filters, 3, K, K], data: w.conv },
      { name: 'conv_b', dims: [w.filters], data: w.convBias },
      { name: 'dense_w', dims: [w.filters, w.classes], data: w.dense },
      { name: 'dense_b', dims: [w.classes], data: w.denseBias },
    ],
  });
}

/**
 * The tiny classifier in float64 on already-preprocessed NHWC pixels [n,S,S,3]: its logits [n][C],
 * and its pooled features [n][F] (the input of the dense layer).
 */
export function tinyReference(x: ArrayLike<number>, n: number, S: number, w: TinyWeights): { logits: number[][]; features: number[][] } {
  const K = w.kernel;
  const p = (K - 1) / 2;
  const F = w.filters;
  const logits: number[][] = [];
  const features: number[][] = [];
  for (let b = 0; b < n; b++) {
    const feat = new Array<number>(F).fill(0);
    for (let f = 0; f < F; f++) {
      let sum = 0;
      for (let i = 0; i < S; i++) {
        for (let j = 0; j < S; j++) {
          let v = w.convBias[f]!;
          for (let c = 0; c < 3; c++) {
            for (let ki = 0; ki < K; ki++) {
              for (let kj = 0; kj < K; kj++) {
                const y = i + ki - p;
                const xx = j + kj - p;
                if (y < 0 || y >= S || xx < 0 || xx >= S) continue;
                v += w.conv[((f * 3 + c) * K + ki) * K + kj]! * x[((b * S + y) * S + xx) * 3 + c]!;
              }
            }
          }
          sum += Math.max(0, v);
        }
      }
      feat[f] = sum / (S * S);
    }
    features.push(feat);
    logits.push(Array.from({ length: w.classes }, (_, k) => feat.reduce((acc, v, f) => acc + v * w.dense[f * w.classes + k]!, w.denseBias[k]!)));
  }
  return { logits, features };
}

/** A model whose input is a vector, not an image: x [N, D] → Gemm → [N, C]. */
export function vectorModelOnnx(D: number, C: number): Uint8Array {
  return onnxModel({
    inputs: [{ name: 'vec', dims: ['N', D] }],
    outputs: [{ name: 'out', dims: ['N', C] }],
    nodes: [{ op: 'Gemm', inputs: ['vec', 'w', 'b'], outputs: ['out'] }],
    initializers: [
      { name: 'w', dims: [D, C], data: new Float32Array(D * C).fill(0.1) },
      { name: 'b', dims: [C], data: new Float32Array(C) },
    ],
  });
}

/** A rank-4 input with `channels` channels (NCHW): GlobalAveragePool → Flatten → [N, channels]. */
export function channelsModelOnnx(channels: number, S: number): Uint8Array {
  return onnxModel({
    inputs: [{ name: 'img', dims: ['N', channels, S, S] }],
    outputs: [{ name: 'out', dims: ['N', channels] }],
    nodes: [
      { op: 'GlobalAveragePool', inputs: ['img'], outputs: ['gap'] },
      { op: 'Flatten', inputs: ['gap'], outputs: ['out'], attrs: { axis: 1 } },
    ],
    initializers: [],
  });
}
