// The TFLite writer checked by the real runtime: each written file runs in LiteRT (litert-runtime.ts)
// and is compared with the TF.js student it came from. float32 must match to 1e-4 and float16 to
// 1e-2 in probability; int8 (calibrated on training images, full-integer) must keep the top-1 class
// of ≥ 98% of held-out images of a stand-in set the students are first trained on.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { createModel } from '../../src/main/engine/models/index.js';
import { lowerModel } from '../../src/main/engine/export/lower.js';
import { calibrateRanges } from '../../src/main/engine/export/calibrate.js';
import { writeTflite } from '../../src/main/engine/export/tflite/write-tflite.js';
import { openTflite } from '../../src/main/engine/export/tflite/litert-runtime.js';

beforeAll(async () => {
  await initBackend({ threads: 1 });
});

const SIZE = 32;

function randomizeBatchNorms(model: tf.LayersModel): void {
  let seed = 100;
  for (const l of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    l.setWeights(l.getWeights().map((w, i, all) => (i === all.length - 1 ? tf.randomUniform(w.shape, 0.5, 2, 'float32', seed++) : tf.randomNormal(w.shape, i === 0 ? 1 : 0, 0.3, 'float32', seed++))));
  }
}

/** TF.js probabilities on the plain-JS cpu backend (exact float32, see export-lower.test.ts). */
function tfjsProbabilities(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  const before = tf.getBackend();
  tf.setBackend('cpu');
  try {
    return tf.tidy(() => tf.softmax(model.predict(x) as tf.Tensor).dataSync() as Float32Array);
  } finally {
    tf.setBackend(before);
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

function argmaxes(p: Float32Array, k: number): number[] {
  return Array.from({ length: p.length / k }, (_, r) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[r * k + c]! > p[r * k + best]!) best = c;
    return best;
  });
}

/**
 * A stand-in three-class set: noisy textured images whose class is the dominant colour channel,
 * on a random grey level, so a small net learns it in a few steps and has real decision margins.
 */
function standInSet(n: number, seed: number): { x: tf.Tensor4D; labels: number[] } {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const labels = Array.from({ length: n }, (_, i) => i % 3);
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
function train(model: tf.LayersModel, x: tf.Tensor, labels: number[], steps: number, lr: number, freezeBatchNorm: boolean): void {
  const opt = tf.train.adam(lr);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
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

const students = [
  { name: 'refnet', lr: 0.003, steps: 20, freezeBatchNorm: false, minAccuracy: 0.9, make: () => heScaled(createModel({ arch: 'refnet', inputSize: SIZE, classes: 3, seed: 3 })) },
  { name: 'mobilenet_v2 ×0.35', lr: 0.003, steps: 30, freezeBatchNorm: true, minAccuracy: 0.55, make: () => createModel({ arch: 'mobilenet_v2', width: 0.35, inputSize: SIZE, classes: 3, seed: 3 }) },
];

describe('TFLite export run by LiteRT', () => {
  it.each(students)('$name: float32 within 1e-4 and float16 within 1e-2 of TF.js', async ({ make }) => {
    const model = make();
    randomizeBatchNorms(model);
    const x = tf.randomUniform([6, SIZE, SIZE, 3], 0, 255, 'float32', 21);
    const theirs = tfjsProbabilities(model, x);
    const graph = lowerModel(model);
    const sizes: Record<string, number> = {};
    for (const [quantize, tol] of [['none', 1e-4], ['float16', 1e-2]] as const) {
      const file = writeTflite(graph, { quantize });
      sizes[quantize] = file.length;
      expect(new TextDecoder().decode(file.subarray(4, 8))).toBe('TFL3');
      const session = await openTflite(file);
      expect([session.inputSize, session.classes]).toEqual([SIZE, 3]);
      const ours = await session.run(x.dataSync() as Float32Array, 6);
      session.close();
      expect(maxAbsDiff(ours, theirs)).toBeLessThanOrEqual(tol);
    }
    // float16 weights: about half the file.
    expect(sizes['float16']!).toBeLessThan(sizes['none']! * 0.6);
    x.dispose();
    model.dispose();
  }, 60_000);

  it('float32: explicit PAD before a VALID max pool, a residual ADD and a per-channel affine', async () => {
    const input = tf.input({ shape: [12, 12, 3] });
    const n = tf.layers.rescaling({ scale: 1 / 127.5, offset: -1 }).apply(input) as tf.SymbolicTensor;
    let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }).apply(n) as tf.SymbolicTensor;
    h = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pad' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool' }).apply(h) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c2' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.add({ name: 'add' }).apply([h, b]) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: 'bn_after_add' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 3 }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: h });
    randomizeBatchNorms(model);
    const graph = lowerModel(model);
    expect(graph.ops.map((o) => o.kind)).toEqual(['affine', 'conv2d', 'pad', 'maxpool', 'conv2d', 'add', 'affine', 'gap', 'dense', 'softmax']);
    const x = tf.randomUniform([3, 12, 12, 3], 0, 255, 'float32', 4);
    const session = await openTflite(writeTflite(graph, { quantize: 'none' }));
    const ours = await session.run(x.dataSync() as Float32Array, 3);
    session.close();
    expect(maxAbsDiff(ours, tfjsProbabilities(model, x))).toBeLessThanOrEqual(1e-4);
    // int8 keeps only the input normalization in float: a BN left after an ADD is refused by name.
    expect(() => writeTflite(graph, { quantize: 'int8', ranges: calibrateRanges(graph, [{ x: x.dataSync() as Float32Array, n: 3 }]) })).toThrow(/bn_after_add/);
    x.dispose();
    model.dispose();
  });

  it.each(students)('$name: int8 keeps the top-1 class of ≥ 98% of held-out images after a little training', async ({ make, lr, steps, freezeBatchNorm, minAccuracy }) => {
    const model = make();
    const trainSet = standInSet(96, 1);
    const testSet = standInSet(150, 2);
    train(model, trainSet.x, trainSet.labels, steps, lr, freezeBatchNorm);
    const graph = lowerModel(model);
    const float = tfjsProbabilities(model, testSet.x);
    const floatTop = argmaxes(float, 3);
    // The float student tells the classes apart well above chance (1/3), so its top-1 moves with the
    // image and agreement means something. (MobileNetV2 reaches only ~65% in this short a run.)
    const acc = floatTop.filter((c, i) => c === testSet.labels[i]).length / 150;
    expect(acc).toBeGreaterThan(minAccuracy);
    const cal = trainSet.x.dataSync() as Float32Array;
    const ranges = calibrateRanges(graph, [{ x: cal, n: 96 }]);
    const file = writeTflite(graph, { quantize: 'int8', ranges });
    const session = await openTflite(file);
    const ours = await session.run(testSet.x.dataSync() as Float32Array, 150);
    session.close();
    const agreement = argmaxes(ours, 3).filter((c, i) => c === floatTop[i]).length / 150;
    expect(agreement).toBeGreaterThanOrEqual(0.98);
    // And it is a quantized model, not a float one in disguise: outputs on the 1/256 grid, small file.
    expect(maxAbsDiff(ours, float)).toBeGreaterThan(0);
    for (const p of ours.slice(0, 30)) expect(Math.abs(p * 256 - Math.round(p * 256))).toBeLessThan(1e-3);
    expect(file.length).toBeLessThan(writeTflite(graph, { quantize: 'none' }).length * 0.45);
    tf.dispose([trainSet.x, testSet.x]);
    model.dispose();
  }, 120_000);
});
