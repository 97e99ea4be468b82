// Reading (and minimally rewriting) an ONNX ModelProto with onnx-proto: the input/output shapes an
// imported model declares, which op produces an output, where its classifier head and its global
// pooling start, and a copy of the model with intermediate values added to graph.output so onnxruntime
// returns them.
import fs from 'node:fs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
type NodeProto = onnxProto.onnx.INodeProto;

/** A dimension: a number, or the name of a symbolic (dynamic) one, or null where it is not declared. */
export type Dim = number | string | null;

export interface ValueShape {
  name: string;
  /** Null when the graph declares no shape for it. */
  dims: Dim[] | null;
  /** ONNX TensorProto.DataType code (1 = float32). */
  elemType: number | null;
}

function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v == null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Decodes an .onnx file; the error names the file where it is not an ONNX model. */
export function readModelProto(file: string): { model: ModelProto; bytes: Uint8Array } {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new Error(`${file}: not an ONNX model (protobuf decoding failed: ${(err as Error).message})`);
  }
  // Arbitrary bytes sometimes decode as an empty message: a model needs a graph with nodes and an input.
  if (!model.graph || !model.graph.node?.length || !model.graph.input?.length || !model.graph.output?.length) {
    throw new Error(`${file}: not an ONNX model (no graph with nodes, inputs and outputs)`);
  }
  return { model, bytes };
}

function shapeOf(v: onnxProto.onnx.IValueInfoProto): ValueShape {
  const t = v.type?.tensorType;
  const dims = t?.shape?.dim ? t.shape.dim.map((d): Dim => (d.dimParam ? d.dimParam : d.dimValue != null ? num(d.dimValue) : null)) : null;
  return { name: v.name ?? '', dims, elemType: t?.elemType ?? null };
}

/** The graph's real inputs: declared inputs that are not initializers (older exporters list weights as inputs). */
export function graphInputs(model: ModelProto): ValueShape[] {
  const g = model.graph!;
  const weights = new Set((g.initializer ?? []).map((t) => t.name));
  return (g.input ?? []).filter((i) => !weights.has(i.name)).map(shapeOf);
}

export function graphOutputs(model: ModelProto): ValueShape[] {
  return (model.graph!.output ?? []).map(shapeOf);
}

/** The shape the graph declares for a value (graph input/output or value_info), or null where it declares none. */
export function declaredShape(model: ModelProto, value: string): Dim[] | null {
  const g = model.graph!;
  const v = [...(g.valueInfo ?? []), ...(g.output ?? []), ...(g.input ?? [])].find((x) => x.name === value);
  return v ? shapeOf(v).dims : null;
}

/** Every value name the graph produces or declares (node outputs, inputs, value_info), for "no such value" messages. */
export function valueNames(model: ModelProto): string[] {
  const g = model.graph!;
  return [...new Set([...(g.input ?? []).map((v) => v.name ?? ''), ...(g.node ?? []).flatMap((n) => n.output ?? [])])].filter(Boolean);
}

function producers(model: ModelProto): Map<string, NodeProto> {
  const m = new Map<string, NodeProto>();
  for (const n of model.graph!.node ?? []) for (const o of n.output ?? []) m.set(o, n);
  return m;
}

// Ops that pass a class vector through unchanged in value (only its shape may change).
const PASS_THROUGH = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Cast']);

/** What produces an output, looking through reshapes: 'Softmax' and 'LogSoftmax' tell a probability head. */
export function headOp(model: ModelProto, output: string): string | null {
  const by = producers(model);
  let node = by.get(output);
  while (node && PASS_THROUGH.has(node.opType ?? '')) node = by.get(node.input?.[0] ?? '');
  return node?.opType ?? null;
}

/**
 * The data input of the nearest node on the path back from `output` that `matches` (breadth-first,
 * weights skipped), or null where the path has none.
 */
function inputOfNearest(model: ModelProto, output: string, matches: (node: NodeProto) => boolean): string | null {
  const by = producers(model);
  const weights = new Set((model.graph!.initializer ?? []).map((t) => t.name ?? ''));
  const seen = new Set<string>();
  const queue = [output];
  while (queue.length) {
    const v = queue.shift()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const node = by.get(v);
    if (!node) continue;
    const inputs = (node.input ?? []).filter((i) => i && !weights.has(i));
    if (matches(node)) return inputs[0] ?? null;
    queue.push(...inputs);
  }
  return null;
}

/**
 * The input of the classifier: the data input of the last Gemm or MatMul on the path to `output`
 * (looking through Add for bias, activations and reshapes). Null where there is none.
 */
export function classifierInput(model: ModelProto, output: string): string | null {
  return inputOfNearest(model, output, (node) => node.opType === 'Gemm' || node.opType === 'MatMul');
}

/** A ReduceMean over two axes (H and W), its axes given as an attribute or (opset 18) a constant input. */
function meanOverTwoAxes(model: ModelProto, node: NodeProto): boolean {
  const attr = (node.attribute ?? []).find((a) => a.name === 'axes');
  if (attr) return (attr.ints ?? []).length === 2;
  const axes = node.input?.[1];
  const t = axes ? (model.graph!.initializer ?? []).find((x) => x.name === axes) : undefined;
  if (!t) return false;
  const n = (t.dims ?? []).reduce<number>((a, d) => a * num(d), 1);
  return n === 2;
}

/**
 * The input of the global average pooling on the path to `output` (GlobalAveragePool, or ReduceMean over
 * two axes as some exporters write it): the last spatial stage. Null where the path has none.
 */
export function globalPoolInput(model: ModelProto, output: string): string | null {
  return inputOfNearest(model, output, (node) => node.opType === 'GlobalAveragePool' || (node.opType === 'ReduceMean' && meanOverTwoAxes(model, node)));
}

/** The model's bytes with `values` appended to graph.output (shapes left undeclared: onnxruntime infers them). */
export function withOutputs(model: ModelProto, values: readonly string[]): Uint8Array {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const g = copy.graph!;
  for (const value of values) {
    if ((g.output ?? []).some((o) => o.name === value)) continue;
    g.output = [...(g.output ?? []), onnx.ValueInfoProto.create({ name: value, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } })];
  }
  return onnx.ModelProto.encode(copy).finish();
}

export interface DenseLayer {
  /** [inDim, outDim], row-major (y = x·W + b). */
  kernel: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
}

/**
 * The model cut at `feature` with a classifier appended: spatial features [N,C,H,W] (or [N,H,W,C],
 * transposed first) are global-average-pooled and flattened, then Gemm layers with ReLU between them;
 * the logits become the only graph output. Only ops whose semantics are stable across opsets are used.
 */
export function withDenseHead(model: ModelProto, feature: string, spatial: 'NCHW' | 'NHWC' | null, layers: readonly DenseLayer[], output: string): Uint8Array {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const g = copy.graph!;
  const taken = new Set(valueNames(copy));
  const fresh = (base: string): string => {
    let name = `distill_${base}`;
    for (let i = 1; taken.has(name); i++) name = `distill_${base}_${i}`;
    taken.add(name);
    return name;
  };
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const weights: onnxProto.onnx.ITensorProto[] = [];
  const A = onnx.AttributeProto.AttributeType;
  let x = feature;
  const add = (opType: string, inputs: string[], attribute: onnxProto.onnx.IAttributeProto[] = [], out?: string): string => {
    const y = out ?? fresh(opType.toLowerCase());
    nodes.push({ name: fresh(`${opType.toLowerCase()}_node`), opType, input: inputs, output: [y], attribute });
    return y;
  };
  if (spatial === 'NHWC') x = add('Transpose', [x], [{ name: 'perm', type: A.INTS, ints: [0, 3, 1, 2] }]);
  if (spatial) x = add('GlobalAveragePool', [x]);
  x = add('Flatten', [x], [{ name: 'axis', type: A.INT, i: 1 }]);
  layers.forEach((l, i) => {
    const w = fresh(`head${i}_w`);
    const b = fresh(`head${i}_b`);
    weights.push(
      { name: w, dims: [l.inDim, l.outDim], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(l.kernel).buffer) },
      { name: b, dims: [l.outDim], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(l.bias).buffer) },
    );
    const last = i === layers.length - 1;
    x = add('Gemm', [x, w, b], [], last ? output : undefined);
    if (!last) x = add('Relu', [x]);
  });
  g.node = [...(g.node ?? []), ...nodes];
  g.initializer = [...(g.initializer ?? []), ...weights];
  g.output = [onnx.ValueInfoProto.create({ name: output, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } })];
  return onnx.ModelProto.encode(copy).finish();
}
