// The project's students lowered and written as ONNX, run by onnxruntime-node, against the TF.js
// model's own probabilities: float32 within 1e-4, float16 within 1e-2; int8 (QDQ) keeps the float
// student's top-1 class on ≥ 98% of held-out images (median of three trained students), as the
// TFLite int8 path does.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { createModel } from '../../src/main/engine/models/index.js';
import { lowerModel } from '../../src/main/engine/export/lower.js';
import { writeOnnx } from '../../src/main/engine/export/onnx/write-onnx.js';
import { onnxActivationRanges } from '../../src/main/engine/export/onnx/calibrate-onnx.js';
import { calibrateRanges } from '../../src/main/engine/export/calibrate.js';
import { writeTflite } from '../../src/main/engine/export/tflite/write-tflite.js';
import { openTflite } from '../../src/main/engine/export/tflite/litert-runtime.js';
import { createSession, runFloat } from '../../src/main/engine/onnx/runtime.js';
import {
  CLASSES, INT8_SEEDS, SIZE, STAND_IN_STUDENTS, argmaxes, maxAbsDiff, median, standInSet, tfjsProbabilities as standInProbabilities, train,
} from '../helpers/export-stand-in.js';

beforeAll(async () => {
  await initBackend({ threads: 1 });
});

const S = 32;

/** BatchNorm statistics away from their initial values, so folding is exercised (as a trained model has them). */
function randomizeBatchNorms(model: tf.LayersModel): void {
  let seed = 100;
  for (const l of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    l.setWeights(l.getWeights().map((w, i, all) => (i === all.length - 1 ? tf.randomUniform(w.shape, 0.5, 2, 'float32', seed++) : tf.randomNormal(w.shape, i === 0 ? 1 : 0, 0.3, 'float32', seed++))));
  }
}

/** model.predict softmaxed on tfjs's plain-JS cpu backend (the wasm kernels are a looser yardstick). */
function tfjsProbabilities(model: tf.LayersModel, x: Float32Array, n: number): Float32Array {
  const before = tf.getBackend();
  tf.setBackend('cpu');
  try {
    return tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(x, [n, S, S, 3])) as tf.Tensor).dataSync() as Float32Array);
  } finally {
    tf.setBackend(before);
  }
}

async function onnxProbabilities(bytes: Uint8Array, x: Float32Array, n: number, classes = 2, size = S): Promise<Float32Array> {
  const session = await createSession(bytes, { threads: 1 });
  try {
    const out = await runFloat(session, { data: x, dims: [n, size, size, 3] });
    expect(out.dims).toEqual([n, classes]);
    return out.data;
  } finally {
    await session.release();
  }
}


/**
 * A stand-in two-class set: class 1 images hold a bright square on a dark background, class 0 a
 * dark square on a bright one, both with colour noise and a random position and size.
 */
function squaresSet(n: number, seed: number): { x: Float32Array; y: number[] } {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const x = new Float32Array(n * S * S * 3);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    const size = 8 + Math.floor(rnd() * 14);
    const top = Math.floor(rnd() * (S - size));
    const left = Math.floor(rnd() * (S - size));
    const [fg, bg] = cls === 1 ? [210, 50] : [50, 210];
    for (let r = 0; r < S; r++)
      for (let c = 0; c < S; c++) {
        const inside = r >= top && r < top + size && c >= left && c < left + size;
        for (let ch = 0; ch < 3; ch++) x[((i * S + r) * S + c) * 3 + ch] = Math.max(0, Math.min(255, (inside ? fg : bg) + (rnd() - 0.5) * 80));
      }
    y.push(cls);
  }
  return { x, y };
}

const STUDENTS = [
  { arch: 'mobilenet_v2' as const, width: 0.35 },
  { arch: 'refnet' as const },
  { arch: 'resnet18' as const },
];

describe('ONNX export of the students', () => {
  it.each(STUDENTS)('$arch ×$width: float32 within 1e-4 and float16 within 1e-2 of the TF.js probabilities', async ({ arch, width }) => {
    const model = createModel({ arch, width, inputSize: S, classes: 2, seed: 3 });
    randomizeBatchNorms(model);
    const n = arch === 'resnet18' ? 2 : 8;
    const { x } = squaresSet(n, 5);
    const expected = tfjsProbabilities(model, x, n);
    const graph = lowerModel(model);
    const f32bytes = writeOnnx(graph, { quantize: 'none' });
    const f32 = await onnxProbabilities(f32bytes, x, n);
    expect(maxAbsDiff(f32, expected)).toBeLessThanOrEqual(1e-4);
    const f16bytes = writeOnnx(graph, { quantize: 'float16' });
    const f16 = await onnxProbabilities(f16bytes, x, n);
    expect(maxAbsDiff(f16, expected)).toBeLessThanOrEqual(1e-2);
    expect(f16bytes.length).toBeLessThan(f32bytes.length * 0.55);
    model.dispose();
  }, 120_000);


  it.each(STAND_IN_STUDENTS)('$name trained briefly: int8 (QDQ) keeps the top-1 class of ≥ 98% of held-out images (median of three seeds, none below 95%), as TFLite int8 does', async ({ make, lr, steps, freezeBatchNorm, minAccuracy }) => {
    const trainSet = standInSet(96, 1);
    const held = standInSet(150, 2);
    const agreements: number[] = [];
    for (const seed of INT8_SEEDS) {
      const model = make(seed);
      train(model, trainSet.x, trainSet.labels, steps, lr, freezeBatchNorm);
      const float = standInProbabilities(model, held.x);
      const floatTop = argmaxes(float, CLASSES);
      expect(floatTop.filter((c, i) => c === held.labels[i]).length / 150).toBeGreaterThan(minAccuracy);
      const graph = lowerModel(model);
      const cal = trainSet.x.dataSync() as Float32Array;
      const int8 = writeOnnx(graph, { quantize: 'int8', ranges: await onnxActivationRanges(graph, [cal]) });
      const heldX = held.x.dataSync() as Float32Array;
      const onnx = await onnxProbabilities(int8, heldX, 150, CLASSES, SIZE);
      const agree = (p: Float32Array) => argmaxes(p, CLASSES).filter((c, i) => c === floatTop[i]).length / 150;
      const tfl = await openTflite(writeTflite(graph, { quantize: 'int8', ranges: calibrateRanges(graph, [{ x: cal, n: 96 }]) }));
      const lite = await tfl.run(heldX, 150);
      tfl.close();
      agreements.push(agree(onnx));
      expect(Math.abs(agree(onnx) - agree(lite))).toBeLessThanOrEqual(0.02);
      // Quantized for real: not the float model, and weights a fraction of the float file.
      expect(maxAbsDiff(onnx, float)).toBeGreaterThan(0);
      expect(int8.length).toBeLessThan(writeOnnx(graph, { quantize: 'none' }).length * 0.45);
      model.dispose();
    }
    expect(median(agreements), `agreements ${agreements.join(', ')}`).toBeGreaterThanOrEqual(0.98);
    expect(Math.min(...agreements), `agreements ${agreements.join(', ')}`).toBeGreaterThanOrEqual(0.95);
    tf.dispose([trainSet.x, held.x]);
  }, 300_000);
});
