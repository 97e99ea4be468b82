// int8 calibration and weight quantization, per the TFLite int8 spec
// (tensorflow.org/lite/performance/quantization_spec): activations int8 asymmetric
// (real = scale·(q − zeroPoint), the range widened to hold 0 so zero is exact), weights int8
// symmetric (zeroPoint 0, values in [−127, 127]) per output channel for conv/depthwise and per
// tensor for fully-connected, biases int32 with scale = inputScale·weightScale and zeroPoint 0.
// Activation ranges come from the reference interpreter over calibration images.
import * as tf from '@tensorflow/tfjs';
import type { ExportGraph, ValueName } from './graph.js';
import { runGraph } from './reference.js';

export interface Range {
  min: number;
  max: number;
}

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** Per value of the graph, the [min, max] seen over the calibration batches. */
export type ActivationRanges = Map<ValueName, Range>;

/**
 * Runs the graph over `batches` (NHWC float32 [0,255], n images each) and records every value's
 * min/max. A few hundred images of the training distribution are enough for per-value min/max.
 */
export function calibrateRanges(graph: ExportGraph, batches: Iterable<{ x: Float32Array; n: number }>): ActivationRanges {
  const ranges: ActivationRanges = new Map();
  let seen = 0;
  for (const { x, n } of batches) {
    const { values } = runGraph(graph, x, n, { keepValues: true });
    for (const [name, v] of values!) {
      const r = ranges.get(name) ?? { min: Infinity, max: -Infinity };
      for (let i = 0; i < v.length; i++) {
        const a = v[i]!;
        if (a < r.min) r.min = a;
        if (a > r.max) r.max = a;
      }
      ranges.set(name, r);
    }
    seen += n;
  }
  if (seen === 0) throw new Error('calibration needs at least one image');
  return ranges;
}

/**
 * The same ranges from tfjs's own layer outputs (the graph's values are named after the layer whose
 * output they are), ~10-50× faster than the reference interpreter on larger nets. Returns null when
 * some value the int8 writer needs has no layer of its name (then use calibrateRanges).
 */
export function calibrateRangesWithModel(model: tf.LayersModel, graph: ExportGraph, batches: Iterable<{ x: Float32Array; n: number }>): ActivationRanges | null {
  // Softmax outputs have fixed int8 parameters: no range needed.
  const names = graph.ops.filter((o) => o.kind !== 'softmax').map((o) => o.output);
  const layers = new Set(model.layers.map((l) => l.name));
  if (!names.every((n) => layers.has(n))) return null;
  const sub = tf.model({ inputs: model.inputs, outputs: names.map((n) => model.getLayer(n).output as tf.SymbolicTensor) });
  const ranges: ActivationRanges = new Map();
  const widen = (name: string, min: number, max: number): void => {
    const r = ranges.get(name) ?? { min: Infinity, max: -Infinity };
    ranges.set(name, { min: Math.min(r.min, min), max: Math.max(r.max, max) });
  };
  const size = graph.input.size;
  let seen = 0;
  for (const { x, n } of batches) {
    let min = Infinity;
    let max = -Infinity;
    for (const v of x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    widen(graph.input.name, min, max);
    const mins = tf.tidy(() => {
      const outs = [sub.predict(tf.tensor4d(x, [n, size, size, 3]))].flat() as tf.Tensor[];
      return outs.map((t) => [tf.min(t).dataSync()[0]!, tf.max(t).dataSync()[0]!] as const);
    });
    mins.forEach(([lo, hi], i) => widen(names[i]!, lo, hi));
    seen += n;
  }
  if (seen === 0) throw new Error('calibration needs at least one image');
  return ranges;
}

/** int8 asymmetric parameters for a value in [min, max] (widened to hold 0, never degenerate). */
export function activationParams(r: Range): QuantParams {
  const min = Math.min(r.min, 0);
  let max = Math.max(r.max, 0);
  if (max - min < 1e-8) max = min + 1e-8;
  // As the file stores it (float32), so q = round(v/scale) here is what the runtime computes.
  const scale = Math.fround((max - min) / 255);
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - min / scale)));
  return { scale, zeroPoint };
}

export function quantizeValue(v: number, p: QuantParams): number {
  return Math.max(-128, Math.min(127, Math.round(v / p.scale) + p.zeroPoint));
}

/**
 * Symmetric int8 per channel along the LAST axis of a row-major tensor whose last axis has
 * `channels` entries (tfjs conv filters [KH,KW,Cin,Cout] and depthwise [KH,KW,C,1] flattened
 * with C last, dense kernels [Cin,Cout]). Returns the int8 values in the same layout.
 */
export function quantizeSymmetricPerChannel(w: Float32Array, channels: number): { q: Int8Array; scales: Float32Array } {
  const absMax = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) absMax[i % channels] = Math.max(absMax[i % channels]!, Math.abs(w[i]!));
  // A channel of zeros gets a tiny scale rather than 0 (the runtime divides by it).
  const scales = Float32Array.from(absMax, (m) => (m > 0 ? m / 127 : 1e-9));
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scales[i % channels]!)));
  return { q, scales };
}

/** Symmetric int8 with one scale for the whole tensor. */
export function quantizeSymmetricPerTensor(w: Float32Array): { q: Int8Array; scale: number } {
  let m = 0;
  for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(w[i]!));
  const scale = Math.fround(m > 0 ? m / 127 : 1e-9);
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scale)));
  return { q, scale };
}

/** int32 biases: scale_c = inputScale·weightScale_c, zeroPoint 0. */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: ArrayLike<number>): { q: Int32Array; scales: Float32Array } {
  const scales = Float32Array.from(bias, (_, c) => inputScale * weightScales[weightScales.length === 1 ? 0 : c]!);
  const q = Int32Array.from(bias, (b, c) => Math.round(b / scales[c]!));
  return { q, scales };
}
