// What the export tests share: a stand-in three-class set a small student learns in a few steps (so it
// has real decision margins and int8 agreement means something), the students and their short
// training, and comparisons against TF.js's own exact cpu probabilities.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { createModel } from '../../src/main/engine/models/index.js';

export const SIZE = 32;
export const CLASSES = 3;

/** BatchNorm statistics away from their initial values, so folding is exercised (as a trained model has them). */
export function randomizeBatchNorms(model: tf.LayersModel): void {
  let seed = 100;
  for (const l of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    l.setWeights(l.getWeights().map((w, i, all) => (i === all.length - 1 ? tf.randomUniform(w.shape, 0.5, 2, 'float32', seed++) : tf.randomNormal(w.shape, i === 0 ? 1 : 0, 0.3, 'float32', seed++))));
  }
}

/** model.predict softmaxed on tfjs's plain-JS cpu backend (exact float32; the wasm kernels are a looser yardstick). */
export function tfjsProbabilities(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  const before = tf.getBackend();
  tf.setBackend('cpu');
  try {
    return tf.tidy(() => tf.softmax(model.predict(x) as tf.Tensor).dataSync() as Float32Array);
  } finally {
    tf.setBackend(before);
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

export function argmaxes(p: Float32Array, k: number): number[] {
  return Array.from({ length: p.length / k }, (_, r) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[r * k + c]! > p[r * k + best]!) best = c;
    return best;
  });
}

/**
 * Noisy textured images whose class is the dominant colour channel, on a random grey level, so a
 * small net learns it in a few steps and has real decision margins.
 */
export function standInSet(n: number, seed: number): { x: tf.Tensor4D; labels: number[] } {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const labels = Array.from({ length: n }, (_, i) => i % CLASSES);
  const data = new Float32Array(n * SIZE * SIZE * 3);
  labels.forEach((c, i) => {
    const grey = 40 + rand() * 120;
    const boost = 30 + rand() * 80;
    for (let p = 0; p < SIZE * SIZE; p++) {
      for (let ch = 0; ch < 3; ch++) {
        const v = grey + (ch === c ? boost : 0) + (rand() - 0.5) * 60;
        data[(i * SIZE * SIZE + p) * 3 + ch] = Math.max(0, Math.min(255, v));
      }
    }
  });
  return { x: tf.tensor4d(data, [n, SIZE, SIZE, 3]), labels };
}

/**
 * A few Adam steps. freezeBatchNorm trains through BatchNorm at its current statistics, so there is
 * no train/inference gap (its moving averages would lag a few dozen fast-moving steps).
 */
export function train(model: tf.LayersModel, x: tf.Tensor, labels: number[], steps: number, lr: number, freezeBatchNorm: boolean): void {
  const opt = tf.train.adam(lr);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES);
  const n = x.shape[0]!;
  for (let s = 0; s < steps; s++) {
    const start = (s * 32) % n;
    tf.tidy(() => {
      const xb = tf.slice(x, [start, 0, 0, 0], [Math.min(32, n - start), -1, -1, -1]);
      const yb = tf.slice(y, [start, 0], [xb.shape[0]!, -1]);
      opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: !freezeBatchNorm }) as tf.Tensor) as tf.Scalar);
    });
  }
  y.dispose();
  opt.dispose();
}

/**
 * refnet with He-scaled conv kernels: torch's default init (std 1/√(3·fan_in)) shrinks the signal
 * through its seven BN-free ReLU layers so far that a few dozen steps do not move it off chance.
 */
function heScaled(model: tf.LayersModel): tf.LayersModel {
  for (const l of model.layers.filter((l) => l.getClassName() === 'Conv2D' || l.getClassName() === 'DepthwiseConv2D')) {
    l.setWeights(l.getWeights().map((w, i) => (i === 0 ? tf.mul(w, Math.sqrt(6)) : w)));
  }
  return model;
}

/** Students, each with the short training that lifts it well above chance (1/3) on the stand-in set. */
/**
 * Initialisation seeds of the students whose int8 exports are judged together. One briefly trained
 * model is a sample: its int8 agreement moves with the float rounding of the kernels that trained it
 * (mobilenet_v2 ×0.35, seeds 3–7: 0.96, 1, 1, 1, 1 after one kernel change; 1e-6 on the input
 * moves its gradients by 2e-3), so the tests ask for the median over three and a floor for each.
 */
export const INT8_SEEDS = [3, 4, 5];

/** Median of a few values. */
export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v[v.length >> 1]!;
}

export const STAND_IN_STUDENTS = [
  { name: 'refnet', lr: 0.003, steps: 20, freezeBatchNorm: false, minAccuracy: 0.9, make: (seed = 3) => heScaled(createModel({ arch: 'refnet', inputSize: SIZE, classes: CLASSES, seed })) },
  { name: 'mobilenet_v2 ×0.35', lr: 0.003, steps: 30, freezeBatchNorm: true, minAccuracy: 0.55, make: (seed = 3) => createModel({ arch: 'mobilenet_v2', width: 0.35, inputSize: SIZE, classes: CLASSES, seed }) },
];
