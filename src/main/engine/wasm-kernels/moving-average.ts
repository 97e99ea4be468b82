// BatchNormalization's moving statistics in one op per layer. tfjs-layers updates each of them as
// v − (v − batchValue)·(1 − momentum): three tiny ops per statistic, six per layer, all recorded on
// the gradient tape; MobileNetV2 has 52 BatchNorm layers (~300 ops a step at ~20–40 µs each). Here
// both statistics in one kernel, in float32 exactly as those ops round (a float32 +, −, · computed
// in float64 and rounded once is the correctly rounded float32 result).
import type * as tf from '@tensorflow/tfjs';
import { asWasm, f32 } from './util.js';

export const MOVING_AVERAGE_KERNEL = 'DistillMovingAverage';

/** Kernel: inputs {mean, variance, movingMean, movingVariance} (one shape); attrs {momentum} → [movingMean', movingVariance']. */
export function movingAverageKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.TensorInfo[] {
  const backend = asWasm(args.backend);
  const { mean, variance, movingMean, movingVariance } = args.inputs as Record<'mean' | 'variance' | 'movingMean' | 'movingVariance', tf.TensorInfo>;
  const momentum = (args.attrs as unknown as { momentum: number }).momentum;
  const all = [mean, variance, movingMean, movingVariance];
  const n = mean.shape.reduce((a, b) => a * b, 1);
  for (const t of all) {
    if (t.dtype !== 'float32' || t.shape.reduce((a, b) => a * b, 1) !== n) {
      throw new Error(`${MOVING_AVERAGE_KERNEL}: four float32 tensors of ${n} values expected, got ${t.dtype}[${t.shape}]`);
    }
  }
  const outs = [backend.makeOutput(movingMean.shape, 'float32'), backend.makeOutput(movingVariance.shape, 'float32')];
  // Views after the last allocation (allocating may grow the heap).
  const k = Math.fround(1 - momentum);
  const pairs: Array<[Float32Array, Float32Array, Float32Array]> = [
    [f32(backend, movingMean), f32(backend, mean), f32(backend, outs[0]!)],
    [f32(backend, movingVariance), f32(backend, variance), f32(backend, outs[1]!)],
  ];
  for (const [v, x, out] of pairs) {
    for (let i = 0; i < n; i++) out[i] = v[i]! - Math.fround(Math.fround(v[i]! - x[i]!) * k);
  }
  return outs;
}
