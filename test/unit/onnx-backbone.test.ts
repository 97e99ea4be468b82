// ONNX files as backbones: the default feature layer (the input of the last Gemm/MatMul) and a named
// spatial value (added to graph.output in a rewritten copy, pooled here) give the features a float64
// reference computes; the model cut at a feature with a dense head appended runs in onnxruntime and gives
// the head's float64 logits; a head trained on a generated two-class set is saved as one .onnx teacher
// that loadTeacher runs with the accuracy the trainer reported.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackbone } from '../../src/main/engine/teachers/open-backbone.js';
import { readModelProto, withDenseHead } from '../../src/main/engine/onnx/model-proto.js';
import { createSession, runFloat } from '../../src/main/engine/onnx/runtime.js';
import { trainBackboneTeacher, type LabeledImage } from '../../src/main/engine/teachers/train-backbone-teacher.js';
import { loadTeacher } from '../../src/main/engine/teacher-model.js';
import { evaluatePredictor } from '../../src/main/engine/evaluate.js';
import type { Preprocessing } from '../../src/main/engine/teachers/preprocessing.js';
import { makeSyntheticDataset } from '../../src/main/demo/synthetic-dataset.js';
import { TINY_VALUES, tinyClassifierOnnx, tinyReference, tinyWeights, type TinyWeights } from '../helpers/onnx-graphs.js';

const S = 8;
const W = tinyWeights({ filters: 5, classes: 3, seed: 4 });
const PRE: Preprocessing = { range: '-1-1' };
let tmp: string;

function pixels(n: number, size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n * size * size * 3 }, () => {
    s = (Math.imul(s, 22695477) + 1) >>> 0;
    return Math.floor((s / 2 ** 32) * 256);
  });
}

const scaled = (x: Float32Array): number[] => Array.from(x, (v) => v / 127.5 - 1);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-onnx-backbone-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('ONNX backbones', () => {
  const cases = [
    { layout: 'NCHW', dense: 'gemm', feature: undefined, expectLayer: TINY_VALUES.flat },
    { layout: 'NHWC', dense: 'matmul', feature: undefined, expectLayer: TINY_VALUES.flat },
    // A spatial value inside the graph ([N,F,S,S] in both: the NHWC input is transposed first): exposed, then pooled here.
    { layout: 'NCHW', dense: 'gemm', feature: TINY_VALUES.relu, expectLayer: TINY_VALUES.relu },
    { layout: 'NHWC', dense: 'gemm', feature: TINY_VALUES.relu, expectLayer: TINY_VALUES.relu },
  ] as const;
  for (const c of cases) {
    it(`${c.layout} ${c.dense}, feature layer ${c.feature ?? '(default)'}: pooled features equal the float64 reference`, async () => {
      const file = path.join(tmp, `bb-${c.layout}-${c.dense}-${c.feature ?? 'default'}.onnx`);
      fs.writeFileSync(file, tinyClassifierOnnx({ size: S, weights: W, layout: c.layout, dense: c.dense, head: 'softmax' }));
      const b = await openBackbone({ backbone: file, featureLayer: c.feature, preprocessing: PRE });
      try {
        expect([b.inputSize, b.featureDim, b.featureLayer]).toEqual([S, W.filters, c.expectLayer]);
        const n = 3;
        const x = pixels(n, S, 17);
        const t = tf.tensor4d(x, [n, S, S, 3]);
        const f = await b.features(t);
        t.dispose();
        const ref = tinyReference(scaled(x), n, S, W).features.flat();
        expect(ref.some((v) => v > 0.05)).toBe(true); // not all ReLU-dead
        expect(maxAbsDiff(f, ref)).toBeLessThan(1e-4);
      } finally {
        b.dispose();
      }
    });
  }

  it('refuses a feature layer the graph does not have, listing its values', async () => {
    const file = path.join(tmp, 'bb-missing.onnx');
    fs.writeFileSync(file, tinyClassifierOnnx({ size: S, weights: W, layout: 'NCHW' }));
    await expect(openBackbone({ backbone: file, featureLayer: 'conv5' })).rejects.toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: feature layer "conv5" is not a value of the graph .*${TINY_VALUES.flat}`),
    );
  });

  it('the model cut at the feature with a dense head appended gives the head’s float64 logits', async () => {
    const file = path.join(tmp, 'bb-head.onnx');
    fs.writeFileSync(file, tinyClassifierOnnx({ size: S, weights: W, layout: 'NHWC' }));
    const hidden = { kernel: Float32Array.from({ length: W.filters * 4 }, (_, i) => Math.sin(i + 1)), bias: Float32Array.from([0.1, -0.2, 0.3, 0]), inDim: W.filters, outDim: 4 };
    const last = { kernel: Float32Array.from({ length: 4 * 2 }, (_, i) => Math.cos(i)), bias: Float32Array.from([0.5, -0.5]), inDim: 4, outDim: 2 };
    // Cut at the spatial ReLU output (pooled inside the new graph) and at the flat features: the same logits.
    for (const [feature, spatial] of [[TINY_VALUES.relu, 'NCHW'], [TINY_VALUES.flat, null]] as const) {
      const bytes = withDenseHead(readModelProto(file).model, feature, spatial, [hidden, last], 'distill_logits');
      const session = await createSession(bytes, { threads: 1 });
      const n = 2;
      const x = pixels(n, S, 5);
      const out = await runFloat(session, { data: Float32Array.from(x), dims: [n, S, S, 3] });
      await session.release();
      expect(out.dims).toEqual([n, 2]);
      const feats = tinyReference(Array.from(x), n, S, W).features;
      const ref = feats.flatMap((f) => {
        const h = [0, 1, 2, 3].map((k) => Math.max(0, f.reduce((s, v, i) => s + v * hidden.kernel[i * 4 + k]!, hidden.bias[k]!)));
        return [0, 1].map((k) => h.reduce((s, v, i) => s + v * last.kernel[i * 2 + k]!, last.bias[k]!));
      });
      expect(maxAbsDiff(out.data, ref)).toBeLessThan(1e-4);
    }
  });
});

describe('a backbone teacher on an ONNX backbone', () => {
  it('trains a head on a generated set and saves one .onnx teacher that scores what the trainer reported', async () => {
    const data = await makeSyntheticDataset({ dir: path.join(tmp, 'data'), labeledPerClass: 10, unlabeled: 0, valPerClass: 10, size: 40, seed: 3 });
    const classes = ['circle', 'square'];
    const items = (dir: string): LabeledImage[] =>
      classes.flatMap((c, label) => fs.readdirSync(path.join(dir, c)).sort().map((f) => ({ key: `${c}/${f}`, path: path.join(dir, c, f), label })));
    // 1×1 conv giving R, G, B and R − B per pixel (ReLU), pooled: a backbone that sees the classes' hues.
    const hue: TinyWeights = {
      conv: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, -1]),
      convBias: new Float32Array(4),
      dense: new Float32Array(4 * 3),
      denseBias: new Float32Array(3),
      filters: 4,
      kernel: 1,
      classes: 3,
    };
    const file = path.join(tmp, 'hue.onnx');
    fs.writeFileSync(file, tinyClassifierOnnx({ size: 32, weights: hue, layout: 'NCHW' }));
    const b = await openBackbone({ backbone: file, preprocessing: { range: '0-1' } });
    const outDir = path.join(tmp, 'teacher');
    const val = items(data.val);
    let reported: number | null;
    try {
      const r = await trainBackboneTeacher({
        backbone: b, classes, train: items(data.labeled), val, views: 1, head: { kind: 'linear', epochs: 150, seed: 1 }, cache: null, outDir,
        events: { progress: () => {}, info: () => {} },
      });
      reported = r.valAccuracy;
    } finally {
      b.dispose();
    }
    expect(reported).toBeGreaterThanOrEqual(0.9);
    expect(fs.readdirSync(outDir).sort()).toEqual(['distill-teacher.json', 'model.onnx']);
    const teacher = await loadTeacher({ name: 'hue', classes, inputSize: 32, modelDir: outDir }, classes);
    expect('hostLogits' in teacher).toBe(true); // run by onnxruntime
    const e = await evaluatePredictor(teacher, classes, val.map((v) => ({ key: v.key, path: v.path, label: classes[v.label]! })));
    teacher.dispose?.();
    expect(e.n).toBe(20);
    expect(e.accuracy).toBeCloseTo(reported!, 10);
  }, 120_000);
});
