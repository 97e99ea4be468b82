// Network slimming of a pretrained backbone (Liu et al. 2017): each convolution keeps the output
// channels whose BatchNorm scale |γ| is largest, and every layer downstream keeps the same channels on
// its input side, so the narrower network starts with the source's weights on those channels.
// A depthwise convolution passes its input channels through, so a pointwise conv's choice also decides
// the next depthwise layer's channels: the score of a channel is the sum of its |γ| after the
// producing conv and after that depthwise layer (each divided by its layer's mean |γ|, so both count alike).
// Chain-structured backbones only (MobileNet v1 style); branches (Add, Concatenate) are refused.
import * as tf from '@tensorflow/tfjs';
import { inputsOf, type LayerJson, type Topology } from './pretrained-topology.js';

/** Layers that keep the channel set of their input. */
const PASS_THROUGH = new Set([
  'InputLayer', 'Rescaling', 'Activation', 'ReLU', 'ZeroPadding2D', 'Dropout', 'SpatialDropout2D',
  'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'MaxPooling2D', 'AveragePooling2D', 'BatchNormalization', 'DepthwiseConv2D',
]);

export interface SlimPlan {
  /** Per layer: the source channel indices of its output (ascending), null where all are kept. */
  outChannels: Map<string, number[] | null>;
  /** Per layer: the source channel indices of its input. */
  inChannels: Map<string, number[] | null>;
  /** Conv2D layers' new `filters`. */
  filters: Map<string, number>;
  /** Per layer: how many channels its output has in the source (3 for the image input). */
  sourceChannels: Map<string, number>;
}

function meanAbs(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += Math.abs(x);
  return s / Math.max(1, v.length) || 1;
}

function gammaOf(source: tf.LayersModel, bn: LayerJson): Float32Array | null {
  if (bn.config.scale === false) return null;
  return source.getLayer(bn.config.name).getWeights()[0]!.dataSync() as Float32Array;
}

/** Chooses the channels every layer keeps; `width` in (0,1] is the fraction of each conv's filters. */
export function planSlim(t: Topology, source: tf.LayersModel, width: number): SlimPlan {
  if (!(width > 0 && width <= 1)) throw new Error(`slim width must be in (0, 1], got ${width}`);
  const consumers = new Map<string, LayerJson[]>();
  for (const l of t.layers) for (const i of inputsOf(l)) consumers.set(i, [...(consumers.get(i) ?? []), l]);
  const only = (name: string): LayerJson | null => {
    const c = consumers.get(name) ?? [];
    return c.length === 1 ? c[0]! : null;
  };

  const plan: SlimPlan = { outChannels: new Map(), inChannels: new Map(), filters: new Map(), sourceChannels: new Map() };
  for (const l of t.layers) {
    const name = l.config.name;
    const ins = inputsOf(l);
    if (ins.length > 1) throw new Error(`${t.file}: layer "${name}" (${l.class_name}) joins branches; slimming supports chain-structured backbones such as MobileNet v1`);
    const inCh = ins.length ? (plan.outChannels.get(ins[0]!) ?? null) : null;
    plan.inChannels.set(name, inCh);
    plan.sourceChannels.set(name, l.class_name === 'Conv2D' ? Number(l.config.filters) : ins.length ? (plan.sourceChannels.get(ins[0]!) ?? 3) : 3);
    if (l.class_name === 'DepthwiseConv2D' && (l.config.depth_multiplier ?? 1) !== 1) {
      throw new Error(`${t.file}: layer "${name}" has depth_multiplier ${String(l.config.depth_multiplier)}; slimming needs 1`);
    }
    if (l.class_name === 'BatchNormalization' && ![-1, 3, undefined].includes(l.config.axis as number | undefined) && !(Array.isArray(l.config.axis) && l.config.axis[0] === 3)) {
      throw new Error(`${t.file}: BatchNormalization "${name}" normalizes axis ${JSON.stringify(l.config.axis)}; slimming needs channels last`);
    }
    if (PASS_THROUGH.has(l.class_name)) {
      plan.outChannels.set(name, inCh);
      continue;
    }
    if (l.class_name !== 'Conv2D') throw new Error(`${t.file}: layer "${name}" (${l.class_name}) cannot be slimmed (conv, depthwise conv, BatchNorm and activations only)`);
    const filters = Number(l.config.filters);
    const score = new Float64Array(filters);
    // Walk the single-consumer chain after the conv: its BatchNorm, then a depthwise conv's BatchNorm.
    let cur = only(name);
    let bnSeen = 0;
    while (cur && bnSeen < 2 && PASS_THROUGH.has(cur.class_name) && !/Pooling/.test(cur.class_name)) {
      if (cur.class_name === 'BatchNormalization') {
        const g = gammaOf(source, cur);
        if (g) {
          const m = meanAbs(g);
          for (let c = 0; c < filters; c++) score[c] += Math.abs(g[c]!) / m;
        }
        bnSeen++;
      }
      cur = only(cur.config.name);
    }
    if (bnSeen === 0) {
      // No BatchNorm to read: the L1 norm of each filter stands in for |γ|.
      const k = source.getLayer(name).getWeights()[0]!;
      const norms = tf.tidy(() => tf.sum(tf.abs(k), [0, 1, 2]).dataSync());
      for (let c = 0; c < filters; c++) score[c] = norms[c]!;
    }
    const keep = Math.max(1, Math.round(filters * width));
    const order = Array.from({ length: filters }, (_, c) => c).sort((a, b) => score[b]! - score[a]! || a - b);
    const chosen = order.slice(0, keep).sort((a, b) => a - b);
    plan.outChannels.set(name, chosen);
    plan.filters.set(name, keep);
  }
  return plan;
}

/** The topology with each slimmed conv's `filters` replaced. */
export function slimTopology(t: Topology, plan: SlimPlan): Topology {
  return {
    ...t,
    layers: t.layers.map((l) => (plan.filters.has(l.config.name) ? { ...l, config: { ...l.config, filters: plan.filters.get(l.config.name)! } } : l)),
  };
}

/** The source layer's weights restricted to the plan's channels (the caller disposes the result). */
export function slimWeights(className: string, weights: tf.Tensor[], inCh: number[] | null, outCh: number[] | null): tf.Tensor[] {
  const take = (w: tf.Tensor, idx: number[] | null, axis: number): tf.Tensor => (idx ? tf.gather(w, idx, axis) : w.clone());
  return tf.tidy(() => {
    switch (className) {
      case 'Conv2D': {
        const [kernel, bias] = weights;
        const k = take(take(kernel!, inCh, 2), outCh, 3);
        return bias ? [k, take(bias, outCh, 0)] : [k];
      }
      case 'DepthwiseConv2D': {
        const [kernel, bias] = weights;
        const k = take(kernel!, inCh, 2);
        return bias ? [k, take(bias, inCh, 0)] : [k];
      }
      case 'BatchNormalization':
        return weights.map((w) => take(w, inCh, 0));
      default:
        if (weights.length) throw new Error(`slimming: no rule for the weights of a ${className} layer`);
        return [];
    }
  });
}
