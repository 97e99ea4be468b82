// Inference with BatchNorm folded into the convolution before it, and the zero padding and the
// activation around it fused in: Conv→BN→ReLU6 becomes one XNNPACK kernel instead of three passes
// over the activations (four with a ZeroPadding2D). In MobileNetV2 the separate BN and ReLU6 passes
// were ~30% of inference on wasm. Folding is the standard identity
//   BN(conv(x, W) + c) = conv(x, W·s) + (c − mean)·s + β,  s = γ / sqrt(var + ε)
// computed from the current weights and kept until one of them changes (a Variable's assign gives it
// a new dataId): XNNPACK packs a filter once per filter tensor, so a fresh fold per batch would
// repack every weight on every call (+18% per batch on ResNet-18). model.dispose() frees the folds.
// Layers outside these chains run their own `apply`; a model of another shape (shared layers, several
// inputs) falls back to `model.predict`. A model with several outputs (a teacher's tap model: logits
// with its pooled features) keeps every output a value of its own: no chain folds past one.
import * as tf from '@tensorflow/tfjs';
import { activationName, internalsUsable, type BatchNormLayerFields, type ConvLayerFields } from '../compat/index.js';

type Act = 'linear' | 'relu' | 'relu6';
const FUSABLE_ACT: ReadonlySet<string> = new Set<Act>(['linear', 'relu', 'relu6']);

type ConvLayer = ConvLayerFields;
type BatchNormLayer = BatchNormLayerFields;
interface PaddingLayer {
  padding: [[number, number], [number, number]];
  dataFormat: string;
}
interface NodeLike {
  inboundLayers: tf.layers.Layer[];
}
type LayerWithNodes = tf.layers.Layer & { inboundNodes: NodeLike[] };

/** A step of the plan: a layer run as is, or a conv chain (ZeroPadding2D → Conv → BN → activation). */
export type Step =
  | { kind: 'layer'; layer: tf.layers.Layer; inputs: string[]; out: string }
  | {
      kind: 'conv';
      conv: ConvLayer;
      depthwise: boolean;
      pad: [[number, number], [number, number]] | null;
      bn: BatchNormLayer | null;
      act: Act;
      input: string;
      out: string;
      /** The folded filter and bias, and the dataIds of the weights they were made from. */
      folded: { from: object[]; filter: tf.Tensor4D; bias: tf.Tensor } | null;
    };

export interface InferencePlan {
  steps: Step[];
  input: string;
  /** The model's outputs in order (layer names). */
  outputs: string[];
  /** Conv chains that absorbed a BatchNorm (for tests and reports). */
  foldedBatchNorms: number;
  /** Per step, the values no later step reads (never the input or the output). */
  freeAfter: string[][];
}

const plans = new WeakMap<tf.LayersModel, InferencePlan | null>();

function isConv(l: tf.layers.Layer): boolean {
  const c = l.getClassName();
  return c === 'Conv2D' || c === 'DepthwiseConv2D';
}

function dilationOne(d: number | number[]): boolean {
  return Array.isArray(d) ? d.every((v) => v === 1) : d === 1;
}

/** The chains of `model` (null when its shape is not one this planner handles). */
export function inferencePlan(model: tf.LayersModel): InferencePlan | null {
  // The plan reads layers' private fields: only on the tfjs version it was written for.
  if (!internalsUsable()) return null;
  if (plans.has(model)) return plans.get(model)!;
  const plan = buildPlan(model);
  plans.set(model, plan);
  if (plan) freeWithModel(model, plan);
  return plan;
}

/**
 * Frees a model's folded weights and forgets its plan, leaving its layers alone: for a model that
 * shares its layers with another (a tap model), which is never disposed itself.
 */
export function releasePlan(model: tf.LayersModel): void {
  const plan = plans.get(model);
  if (plan) for (const s of plan.steps) if (s.kind === 'conv' && s.folded) tf.dispose([s.folded.filter, s.folded.bias]);
  plans.delete(model);
}

/** Frees the folded weights with the model (they live outside any tidy). */
function freeWithModel(model: tf.LayersModel, plan: InferencePlan): void {
  const dispose = model.dispose.bind(model);
  model.dispose = () => {
    for (const s of plan.steps) if (s.kind === 'conv' && s.folded) tf.dispose([s.folded.filter, s.folded.bias]);
    plans.delete(model);
    return dispose();
  };
}

function buildPlan(model: tf.LayersModel): InferencePlan | null {
  if (model.inputs.length !== 1) return null;
  // Each output must be its layer's only output (a layer called once), so a layer name names it.
  if (model.outputs.some((o) => (o.outputTensorIndex ?? 0) !== 0 || o.nodeIndex !== 0)) return null;
  const layers = model.layers as LayerWithNodes[];
  const inputsOf = new Map<string, string[]>();
  const consumers = new Map<string, string[]>();
  for (const l of layers) {
    if (l.getClassName() === 'InputLayer') continue;
    if (l.inboundNodes.length !== 1) return null; // a shared layer: several call sites
    const ins = l.inboundNodes[0]!.inboundLayers.map((x) => x.name);
    inputsOf.set(l.name, ins);
    for (const i of ins) consumers.set(i, [...(consumers.get(i) ?? []), l.name]);
  }
  const byName = new Map(layers.map((l) => [l.name, l]));
  const input = model.inputs[0]!.sourceLayer.name;
  const outputs = model.outputs.map((o) => o.sourceLayer.name);
  const isOutput = new Set(outputs);
  // The only consumer of `name`'s output, when there is exactly one and it is not a model output.
  const soleConsumer = (name: string): LayerWithNodes | null => {
    const c = consumers.get(name) ?? [];
    return c.length === 1 && !isOutput.has(name) ? byName.get(c[0]!)! : null;
  };
  const absorbed = new Set<string>();
  const steps: Step[] = [];
  let folded = 0;
  for (const l of layers) {
    if (l.getClassName() === 'InputLayer' || absorbed.has(l.name)) continue;
    let conv: LayerWithNodes | null = null;
    let pad: PaddingLayer | null = null;
    let first = l;
    if (l.getClassName() === 'ZeroPadding2D') {
      const next = soleConsumer(l.name);
      const p = l as unknown as PaddingLayer;
      const c = next as unknown as ConvLayer | null;
      const symmetric = p.padding[0][0] === p.padding[0][1] && p.padding[1][0] === p.padding[1][1] && p.padding[0][0] === p.padding[1][0];
      if (next && isConv(next) && c!.padding === 'valid' && p.dataFormat === 'channelsLast' && (next.getClassName() === 'Conv2D' || symmetric)) {
        conv = next;
        pad = p;
      }
    } else if (isConv(l)) conv = l;
    const c = conv as unknown as ConvLayer | null;
    if (!conv || !c || c.dataFormat !== 'channelsLast' || !dilationOne(c.dilationRate) || !FUSABLE_ACT.has(activationName(c))) {
      steps.push({ kind: 'layer', layer: l, inputs: inputsOf.get(l.name)!, out: l.name });
      continue;
    }
    if (pad) absorbed.add(conv.name);
    let last: LayerWithNodes = conv;
    let act = activationName(c) as Act;
    let bn: BatchNormLayer | null = null;
    const bnNext = act === 'linear' ? soleConsumer(last.name) : null;
    if (bnNext && bnNext.getClassName() === 'BatchNormalization') {
      const b = bnNext as unknown as BatchNormLayer;
      if (b.axis === -1 || b.axis === 3) {
        bn = b;
        last = bnNext;
        absorbed.add(bnNext.name);
        folded++;
      }
    }
    const actNext = act === 'linear' ? soleConsumer(last.name) : null;
    if (actNext && actNext.getClassName() === 'Activation' && FUSABLE_ACT.has(activationName(actNext as unknown as ConvLayer))) {
      act = activationName(actNext as unknown as ConvLayer) as Act;
      last = actNext;
      absorbed.add(actNext.name);
    }
    steps.push({
      kind: 'conv',
      conv: c,
      depthwise: conv.getClassName() === 'DepthwiseConv2D',
      pad: pad ? pad.padding : null,
      bn,
      act,
      input: inputsOf.get(first.name)![0]!,
      out: last.name,
      folded: null,
    });
  }
  const lastRead = new Map<string, number>();
  steps.forEach((s, i) => {
    for (const n of s.kind === 'conv' ? [s.input] : s.inputs) lastRead.set(n, i);
  });
  const freeAfter: string[][] = steps.map(() => []);
  for (const [name, i] of lastRead) if (name !== input && !isOutput.has(name)) freeAfter[i]!.push(name);
  return { steps, input, outputs, foldedBatchNorms: folded, freeAfter };
}

function weightsOf(s: Extract<Step, { kind: 'conv' }>): (tf.Tensor | null)[] {
  const bn = s.bn;
  return [
    (s.depthwise ? s.conv.depthwiseKernel : s.conv.kernel)!.read(),
    s.conv.useBias && s.conv.bias ? s.conv.bias.read() : null,
    bn && bn.scale && bn.gamma ? bn.gamma.read() : null,
    bn && bn.center && bn.beta ? bn.beta.read() : null,
    bn ? bn.movingMean.read() : null,
    bn ? bn.movingVariance.read() : null,
  ];
}

/** The BN-folded filter and bias of a conv step, refolded only when a weight has changed. */
function foldedWeights(s: Extract<Step, { kind: 'conv' }> & { bn: BatchNormLayer }): { filter: tf.Tensor4D; bias: tf.Tensor } {
  const [kernel, convBias, gamma, beta, mean, variance] = weightsOf(s) as [tf.Tensor4D, tf.Tensor | null, tf.Tensor | null, tf.Tensor | null, tf.Tensor, tf.Tensor];
  const from = [kernel, convBias, gamma, beta, mean, variance].map((t) => t?.dataId ?? null) as object[];
  if (s.folded && s.folded.from.every((d, i) => d === from[i])) return s.folded;
  const next = tf.tidy(() => {
    const scale = tf.mul(gamma ?? 1, tf.rsqrt(tf.add(variance, s.bn.epsilon)));
    // Output channel o of a depthwise kernel [kh, kw, cin, mult] is cin·mult + m.
    const filter = tf.mul(kernel, s.depthwise ? tf.reshape(scale, [1, 1, kernel.shape[2], kernel.shape[3]]) : scale) as tf.Tensor4D;
    const shifted = convBias ? tf.sub(convBias, mean) : tf.neg(mean);
    const bias = tf.add(tf.mul(shifted, scale), beta ?? 0);
    return { filter: tf.keep(filter), bias: tf.keep(bias) };
  });
  if (s.folded) tf.dispose([s.folded.filter, s.folded.bias]);
  s.folded = { from, ...next };
  return next;
}

export type ConvStep = Extract<Step, { kind: 'conv' }>;

/**
 * A conv chain's filter and bias with its BatchNorm folded in (the model's own tensors when it has
 * none; the bias is undefined for a conv without one). Owned by the model or the plan: do not dispose.
 */
export function convStepWeights(s: ConvStep): { filter: tf.Tensor4D; bias: tf.Tensor | undefined } {
  if (s.bn) return foldedWeights(s as typeof s & { bn: BatchNormLayer });
  return {
    filter: (s.depthwise ? s.conv.depthwiseKernel : s.conv.kernel)!.read() as tf.Tensor4D,
    bias: s.conv.useBias && s.conv.bias ? s.conv.bias.read() : undefined,
  };
}

function convStep(s: ConvStep, x: tf.Tensor4D): tf.Tensor4D {
  const { filter, bias } = convStepWeights(s);
  const strides = s.conv.strides;
  const same = s.conv.padding === 'same';
  if (s.depthwise) {
    const pad = s.pad ? s.pad[0][0] : same ? 'same' : 'valid';
    return tf.fused.depthwiseConv2d({ x, filter, strides, pad, dataFormat: 'NHWC', dilations: [1, 1], bias, activation: s.act });
  }
  const pad = s.pad ? ([[0, 0], s.pad[0], s.pad[1], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]) : same ? 'same' : 'valid';
  return tf.fused.conv2d({ x, filter, strides, pad, dataFormat: 'NHWC', dilations: [1, 1], bias, activation: s.act });
}

/** The model's output for `x` in inference mode, through the folded plan where there is one. */
export function predictFolded(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  const outs = predictFoldedOutputs(model, x);
  for (const t of outs.slice(1)) t.dispose();
  return outs[0]!;
}

/** Every output of the model for `x` in inference mode, in order, through the folded plan where there is one. */
export function predictFoldedOutputs(model: tf.LayersModel, x: tf.Tensor): tf.Tensor[] {
  const plan = inferencePlan(model);
  if (!plan) {
    const out = model.predict(x) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out : [out];
  }
  return tf.tidy(() => {
    const values = new Map<string, tf.Tensor>([[plan.input, x]]);
    plan.steps.forEach((s, i) => {
      if (s.kind === 'conv') values.set(s.out, tf.tidy(() => convStep(s, values.get(s.input) as tf.Tensor4D)));
      else {
        const ins = s.inputs.map((n) => values.get(n)!);
        values.set(s.out, s.layer.apply(ins.length === 1 ? ins[0]! : ins, { training: false }) as tf.Tensor);
      }
      // Activations are freed after their last reader, as model.predict does (peak memory).
      for (const name of plan.freeAfter[i]!) values.get(name)!.dispose();
    });
    return plan.outputs.map((name) => values.get(name)!);
  });
}

/**
 * A forward function for a model we did not build (an imported teacher): the first call runs both
 * paths and keeps the folded one only if it matches model.predict (relative 1e-4), so an unusual
 * layer the plan mishandles costs one extra batch, never wrong labels.
 */
export function checkedFoldedForward(model: tf.LayersModel): (x: tf.Tensor) => tf.Tensor {
  const forward = checkedFoldedOutputs(model);
  return (x) => {
    const outs = forward(x);
    for (const t of outs.slice(1)) t.dispose();
    return outs[0]!;
  };
}

/** checkedFoldedForward for every output of the model (each checked on the first call). */
export function checkedFoldedOutputs(model: tf.LayersModel): (x: tf.Tensor) => tf.Tensor[] {
  let useFolded: boolean | null = inferencePlan(model) ? null : false;
  const plain = (x: tf.Tensor): tf.Tensor[] => {
    const out = model.predict(x) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out : [out];
  };
  return (x) => {
    if (useFolded === false) return plain(x);
    if (useFolded === true) return predictFoldedOutputs(model, x);
    const reference = plain(x);
    const folded = predictFoldedOutputs(model, x);
    useFolded =
      reference.length === folded.length &&
      reference.every((r, i) => {
        const f = folded[i]!;
        if (r.shape.join() !== f.shape.join()) return false;
        const [worst, scale] = tf.tidy(() => {
          const diff = tf.max(tf.abs(tf.sub(r, f)));
          const size = tf.maximum(tf.max(tf.abs(r)), 1e-6);
          return [diff.dataSync()[0]!, size.dataSync()[0]!];
        });
        return worst <= 1e-4 * scale;
      });
    tf.dispose(useFolded ? reference : folded);
    return useFolded ? folded : reference;
  };
}
