// Lowers a tfjs layers model (a student the app trains, or a pretrained classifier such as a TF.js
// MobileNet v1 with its head) to the format-neutral ExportGraph. The conv chains come from the
// inference planner (models/inference-plan.ts), so BatchNorm is folded exactly as inference folds
// it; everything else is mapped layer by layer, and a layer without a mapping is refused by name.
// Two clean-up passes then fold a zero padding into the conv after it and a ReLU/ReLU6 into the op
// before it, so writers see one op where the runtime has one kernel.
import type * as tf from '@tensorflow/tfjs';
import { convStepWeights, inferencePlan, type ConvStep } from '../models/inference-plan.js';
import { activationName, type BatchNormLayerFields, type ConvLayerFields } from '../compat/layer-fields.js';
import type { Activation, ExportGraph, ExportOp, Padding, ValueName } from './graph.js';

export interface LowerOptions {
  /**
   * Input normalization to put first, for a model that expects normalized input but has no
   * Rescaling layer (a pretrained backbone: its preprocessing travels beside it). y = x·scale + offset.
   */
  normalize?: { scale: number | number[]; offset: number | number[] };
}

/** The explicit padding tfjs applies for 'same' / 'valid' along one axis. */
function axisPadding(mode: string, size: number, kernel: number, stride: number): [number, number] {
  if (mode !== 'same') return [0, 0];
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function padding2d(mode: string, shape: number[], kernel: [number, number], strides: [number, number]): Padding {
  if (mode !== 'same' && mode !== 'valid') throw new Error(`padding "${mode}"`);
  const [top, bottom] = axisPadding(mode, shape[0]!, kernel[0], strides[0]);
  const [left, right] = axisPadding(mode, shape[1]!, kernel[1], strides[1]);
  return { top, bottom, left, right };
}

function windowOut(shape: number[], kernel: [number, number], strides: [number, number], p: Padding, channels: number): number[] {
  const h = Math.floor((shape[0]! + p.top + p.bottom - kernel[0]) / strides[0]) + 1;
  const w = Math.floor((shape[1]! + p.left + p.right - kernel[1]) / strides[1]) + 1;
  if (h < 1 || w < 1) throw new Error(`window ${kernel.join('×')} does not fit input ${shape.join('×')}`);
  return [h, w, channels];
}

function pair(v: number | number[] | undefined, fallback: number): [number, number] {
  if (v === undefined) return [fallback, fallback];
  return Array.isArray(v) ? [v[0]!, v[1] ?? v[0]!] : [v, v];
}

function data(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

/** A value whose every dim but the last is 1 holds a plain vector (what a Reshape to [C] sees). */
function isVectorLike(shape: number[]): boolean {
  return shape.slice(0, -1).every((d) => d === 1);
}

export function lowerModel(model: tf.LayersModel, options: LowerOptions = {}): ExportGraph {
  const plan = inferencePlan(model);
  if (!plan) throw new Error(`cannot lower model "${model.name}": it needs one input, one output and no layer used twice`);
  const inShape = model.inputs[0]!.shape;
  if (inShape.length !== 4 || inShape[1] !== inShape[2] || inShape[3] !== 3 || typeof inShape[1] !== 'number') {
    throw new Error(`cannot lower model "${model.name}": input must be [N,S,S,3], got [${inShape.join(',')}]`);
  }
  const size = inShape[1];
  const ops: ExportOp[] = [];
  const shapes: Record<ValueName, number[]> = {};
  /** Layer name → the graph value holding its output. */
  const valueOf = new Map<string, ValueName>();
  const inputName: ValueName = plan.input;
  shapes[inputName] = [size, size, 3];
  valueOf.set(plan.input, inputName);

  const emit = (op: ExportOp, shape: number[]): void => {
    ops.push(op);
    shapes[op.output] = shape;
  };
  if (options.normalize) {
    const { scale, offset } = options.normalize;
    const v = 'input_normalized';
    emit({ kind: 'affine', name: 'normalize', input: inputName, output: v, scale: Float32Array.from([scale].flat()), offset: Float32Array.from([offset].flat()) }, [size, size, 3]);
    valueOf.set(plan.input, v);
  }

  const value = (layer: string): ValueName => {
    const v = valueOf.get(layer);
    if (v === undefined) throw new Error(`internal: layer "${layer}" read before it was lowered`);
    return v;
  };
  const refuse = (l: tf.layers.Layer, why: string): never => {
    throw new Error(`cannot export layer "${l.name}" (${l.getClassName()}): ${why}`);
  };

  for (const step of plan.steps) {
    if (step.kind === 'conv') {
      lowerConv(step, value(step.input), step.out);
      valueOf.set(step.out, step.out);
      continue;
    }
    const l = step.layer;
    const cls = l.getClassName();
    const config = l.getConfig();
    const ins = step.inputs.map(value);
    const x = ins[0]!;
    const xs = shapes[x]!;
    const out: ValueName = step.out;
    const alias = (): void => {
      valueOf.set(step.out, x);
    };
    switch (cls) {
      case 'Rescaling': {
        const scale = Number(config['scale']);
        const offset = Number(config['offset']);
        emit({ kind: 'affine', name: l.name, input: x, output: out, scale: Float32Array.of(scale), offset: Float32Array.of(offset) }, xs);
        break;
      }
      case 'Dropout':
      case 'SpatialDropout2D':
        alias();
        break;
      case 'Activation': {
        const fn = activationName(l as unknown as ConvLayerFields);
        if (fn === 'linear') alias();
        else if (fn === 'relu' || fn === 'relu6') emit({ kind: fn, name: l.name, input: x, output: out }, xs);
        else if (fn === 'softmax') {
          if (!isVectorLike(xs)) refuse(l, `softmax over a [${xs.join(',')}] value (only over class scores)`);
          emit({ kind: 'softmax', name: l.name, input: x, output: out }, xs);
        } else refuse(l, `activation "${fn}" (relu, relu6, softmax and linear are exported)`);
        break;
      }
      case 'Reshape':
      case 'Flatten': {
        // Only the reshapes a classifier head does around a 1×1 map ([C] ↔ [1,1,C]): same data order.
        const target = cls === 'Flatten' ? [xs.reduce((a, b) => a * b, 1)] : (config['targetShape'] as number[]);
        if (!isVectorLike(xs) || !isVectorLike(target) || target[target.length - 1] !== xs[xs.length - 1]) {
          refuse(l, `reshape [${xs.join(',')}] → [${target.join(',')}] (only between [C] and [1,1,C])`);
        }
        alias();
        break;
      }
      case 'ZeroPadding2D': {
        if (config['dataFormat'] !== 'channelsLast') refuse(l, 'channels-first data');
        const p = config['padding'] as [[number, number], [number, number]];
        const padding = { top: p[0][0], bottom: p[0][1], left: p[1][0], right: p[1][1] };
        emit({ kind: 'pad', name: l.name, input: x, output: out, padding }, [xs[0]! + padding.top + padding.bottom, xs[1]! + padding.left + padding.right, xs[2]!]);
        break;
      }
      case 'MaxPooling2D': {
        if (config['dataFormat'] !== 'channelsLast') refuse(l, 'channels-first data');
        const k = pair(config['poolSize'] as number[], 2);
        const s = pair((config['strides'] as number[] | null) ?? k, 1);
        const padding = padding2d(String(config['padding']), xs, k, s);
        emit({ kind: 'maxpool', name: l.name, input: x, output: out, size: k, strides: s, padding }, windowOut(xs, k, s, padding, xs[2]!));
        break;
      }
      case 'GlobalAveragePooling2D': {
        if (config['dataFormat'] !== 'channelsLast') refuse(l, 'channels-first data');
        if (config['keepDims']) refuse(l, 'keepDims');
        if (xs.length === 1) alias();
        else emit({ kind: 'gap', name: l.name, input: x, output: out }, [xs[2]!]);
        break;
      }
      case 'Add': {
        if (ins.length < 2) refuse(l, 'fewer than two inputs');
        let acc = ins[0]!;
        for (let i = 1; i < ins.length; i++) {
          if (shapes[ins[i]!]!.join() !== shapes[acc]!.join()) refuse(l, `inputs of shapes [${shapes[acc]!.join(',')}] and [${shapes[ins[i]!]!.join(',')}]`);
          const o = i === ins.length - 1 ? out : `${out}_${i}`;
          emit({ kind: 'add', name: i === ins.length - 1 ? l.name : `${l.name}_${i}`, inputs: [acc, ins[i]!], output: o, activation: 'linear' }, shapes[acc]!);
          acc = o;
        }
        break;
      }
      case 'BatchNormalization': {
        // A BN the planner could not fold into a conv: a per-channel affine.
        const b = l as unknown as BatchNormLayerFields;
        if (b.axis !== -1 && b.axis !== xs.length) refuse(l, `normalization over axis ${b.axis}`);
        const mean = data(b.movingMean.read());
        const variance = data(b.movingVariance.read());
        const gamma = b.scale && b.gamma ? data(b.gamma.read()) : null;
        const beta = b.center && b.beta ? data(b.beta.read()) : null;
        const scale = mean.map((_, c) => (gamma ? gamma[c]! : 1) / Math.sqrt(variance[c]! + b.epsilon));
        const offset = mean.map((m, c) => (beta ? beta[c]! : 0) - m * scale[c]!);
        emit({ kind: 'affine', name: l.name, input: x, output: out, scale, offset }, xs);
        break;
      }
      case 'Dense': {
        if (xs.length !== 1 && !isVectorLike(xs)) refuse(l, `input [${xs.join(',')}] is not a vector (flatten is not exported)`);
        const [kernel, bias] = l.getWeights();
        const fn = activationName(l as unknown as ConvLayerFields);
        if (fn !== 'linear' && fn !== 'relu' && fn !== 'relu6' && fn !== 'softmax') refuse(l, `activation "${fn}"`);
        const units = kernel!.shape[1]!;
        const logits = fn === 'softmax' ? `${out}_logits` : out;
        emit(
          {
            kind: 'dense', name: l.name, input: x, output: logits, kernel: data(kernel!), kernelShape: [kernel!.shape[0]!, units],
            bias: bias ? data(bias) : new Float32Array(units), activation: fn === 'softmax' ? 'linear' : (fn as Activation),
          },
          [units],
        );
        if (fn === 'softmax') emit({ kind: 'softmax', name: `${l.name}_softmax`, input: logits, output: out }, [units]);
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const c = l as unknown as ConvLayerFields;
        const dil = Array.isArray(c.dilationRate) ? c.dilationRate : [c.dilationRate];
        if (dil.some((d) => d !== 1)) refuse(l, 'dilated convolution');
        if (c.dataFormat !== 'channelsLast') refuse(l, 'channels-first data');
        refuse(l, `activation "${activationName(c)}" (relu, relu6 and linear are exported)`);
        break;
      }
      default:
        refuse(l, 'no export mapping for this layer class');
    }
    if (!valueOf.has(step.out)) valueOf.set(step.out, out);
  }

  function lowerConv(s: ConvStep, x: ValueName, out: ValueName): void {
    const xs = shapes[x]!;
    const { filter, bias } = convStepWeights(s);
    const [kh, kw, cin, mult] = filter.shape;
    const name = s.out;
    const filterData = data(filter);
    const cout = s.depthwise ? cin * mult : mult;
    const biasData = bias ? data(bias) : new Float32Array(cout);
    const layerName = (s.conv as unknown as { name: string }).name;
    if (xs.length === 1) {
      // A 1×1 conv on a vector (a classifier head after GAP + Reshape): a Dense.
      if (kh !== 1 || kw !== 1 || s.depthwise || s.pad) throw new Error(`cannot export layer "${layerName}": a ${kh}×${kw} conv on a vector`);
      emit({ kind: 'dense', name, input: x, output: out, kernel: filterData, kernelShape: [cin, cout], bias: biasData, activation: s.act }, [cout]);
      return;
    }
    if (xs[2] !== cin) throw new Error(`internal: conv "${layerName}" expects ${cin} channels, input has ${xs[2]}`);
    const strides: [number, number] = [s.conv.strides[0], s.conv.strides[1] ?? s.conv.strides[0]];
    const padding = s.pad
      ? { top: s.pad[0][0], bottom: s.pad[0][1], left: s.pad[1][0], right: s.pad[1][1] }
      : padding2d(s.conv.padding, xs, [kh, kw], strides);
    const shape = windowOut(xs, [kh, kw], strides, padding, cout);
    if (s.depthwise) {
      if (mult !== 1) throw new Error(`cannot export layer "${layerName}" (DepthwiseConv2D): depth multiplier ${mult} (only 1)`);
      emit({ kind: 'depthwise', name, input: x, output: out, filter: filterData, filterShape: [kh, kw, cin, 1], bias: biasData, strides, padding, activation: s.act }, shape);
    } else {
      emit({ kind: 'conv2d', name, input: x, output: out, filter: filterData, filterShape: [kh, kw, cin, cout], bias: biasData, strides, padding, activation: s.act }, shape);
    }
  }

  if (plan.outputs.length !== 1) throw new Error(`cannot export model "${model.name}": ${plan.outputs.length} outputs (one: the class scores)`);
  let output = value(plan.outputs[0]!);
  const outShape = shapes[output]!;
  if (!isVectorLike(outShape)) throw new Error(`cannot export model "${model.name}": output [${outShape.join(',')}] is not a vector of class scores`);
  const graph: ExportGraph = { input: { name: inputName, size, channels: 3 }, ops, output: { name: output, classes: outShape[outShape.length - 1]! }, shapes };
  const last = ops.find((o) => o.output === output);
  if (!last || last.kind !== 'softmax') {
    const probs = `${output}_probs`;
    emit({ kind: 'softmax', name: 'probabilities', input: output, output: probs }, [graph.output.classes]);
    output = probs;
    graph.output.name = probs;
  }
  return simplify(graph);
}

/** Names of the values each op reads. */
export function opInputs(op: ExportOp): ValueName[] {
  return op.kind === 'add' ? [...op.inputs] : [op.input];
}

function readers(graph: ExportGraph): Map<ValueName, number> {
  const n = new Map<ValueName, number>();
  for (const op of graph.ops) for (const v of opInputs(op)) n.set(v, (n.get(v) ?? 0) + 1);
  return n;
}

/** Folds pad → conv/depthwise and conv/depthwise/add/dense → relu/relu6 where the first feeds only the second. */
function simplify(graph: ExportGraph): ExportGraph {
  let ops = graph.ops;
  const drop = new Set<ExportOp>();
  let count = readers(graph);
  const producer = new Map(ops.map((o) => [o.output, o]));
  for (const op of ops) {
    if (op.kind !== 'conv2d' && op.kind !== 'depthwise') continue;
    const p = producer.get(op.input);
    if (!p || p.kind !== 'pad' || count.get(p.output) !== 1) continue;
    op.padding = {
      top: op.padding.top + p.padding.top, bottom: op.padding.bottom + p.padding.bottom,
      left: op.padding.left + p.padding.left, right: op.padding.right + p.padding.right,
    };
    op.input = p.input;
    drop.add(p);
    delete graph.shapes[p.output];
  }
  ops = ops.filter((o) => !drop.has(o));
  count = readers({ ...graph, ops });
  const byOutput = new Map(ops.map((o) => [o.output, o]));
  const fused = new Set<ExportOp>();
  for (const op of ops) {
    if (op.kind !== 'relu' && op.kind !== 'relu6') continue;
    const p = byOutput.get(op.input);
    if (!p || !('activation' in p) || p.activation !== 'linear' || count.get(p.output) !== 1 || p.output === graph.output.name) continue;
    delete graph.shapes[p.output];
    p.activation = op.kind as Activation;
    p.output = op.output;
    byOutput.set(p.output, p);
    fused.add(op);
  }
  return { ...graph, ops: ops.filter((o) => !fused.has(o)) };
}
