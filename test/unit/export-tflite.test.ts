// The TFLite writer checked by the real runtime: each written file runs in LiteRT (litert-runtime.ts)
// and is compared with the TF.js student it came from. float32 must match to 1e-4 and float16 to
// 1e-2 in probability; int8 (calibrated on training images, full-integer) must keep the top-1 class
// of ≥ 98% of held-out images of a stand-in set the students are first trained on.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { lowerModel } from '../../src/main/engine/export/lower.js';
import { calibrateRanges } from '../../src/main/engine/export/calibrate.js';
import { writeTflite } from '../../src/main/engine/export/tflite/write-tflite.js';
import { openTflite } from '../../src/main/engine/export/tflite/litert-runtime.js';
import { INT8_SEEDS, SIZE, STAND_IN_STUDENTS as students, argmaxes, maxAbsDiff, median, randomizeBatchNorms, standInSet, tfjsProbabilities, train } from '../helpers/export-stand-in.js';

beforeAll(async () => {
  await initBackend({ threads: 1 });
});

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

  it.each(students)('$name: int8 keeps the top-1 class of ≥ 98% of held-out images after a little training (median of three seeds, none below 95%)', async ({ make, lr, steps, freezeBatchNorm, minAccuracy }) => {
    const trainSet = standInSet(96, 1);
    const testSet = standInSet(150, 2);
    const agreements: number[] = [];
    for (const seed of INT8_SEEDS) {
      const model = make(seed);
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
      agreements.push(argmaxes(ours, 3).filter((c, i) => c === floatTop[i]).length / 150);
      // And it is a quantized model, not a float one in disguise: outputs on the 1/256 grid, small file.
      expect(maxAbsDiff(ours, float)).toBeGreaterThan(0);
      for (const p of ours.slice(0, 30)) expect(Math.abs(p * 256 - Math.round(p * 256))).toBeLessThan(1e-3);
      expect(file.length).toBeLessThan(writeTflite(graph, { quantize: 'none' }).length * 0.45);
      model.dispose();
    }
    expect(median(agreements), `agreements ${agreements.join(', ')}`).toBeGreaterThanOrEqual(0.98);
    expect(Math.min(...agreements), `agreements ${agreements.join(', ')}`).toBeGreaterThanOrEqual(0.95);
    tf.dispose([trainSet.x, testSet.x]);
  }, 300_000);
});
