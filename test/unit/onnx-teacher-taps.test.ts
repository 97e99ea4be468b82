// ONNX teachers feed the feature methods through graph outputs: the default pooled features (the input
// of the last Gemm/MatMul) equal the float64 reference, the default map (the input of the global average
// pooling, NCHW or an NHWC value before ReduceMean) equals the same conv computed in tfjs, named values
// work and bad ones are refused naming the file and the value; FitNets, feature regression and attention
// transfer train with an ONNX teacher, one run per batch, and the live tensor count stays flat from step
// to step.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig } from '../../src/shared/run-config.js';
import { Store } from '../../src/main/store/index.js';
import { importDataset } from '../../src/main/datasets/import.js';
import { makeSyntheticDataset } from '../../src/main/demo/synthetic-dataset.js';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { createModel } from '../../src/main/engine/models/index.js';
import { buildTrainingSet, type TrainingSet } from '../../src/main/jobs/training-set.js';
import { trainLoop } from '../../src/main/engine/train/train-loop.js';
import { checkFeatureSources, featureNeeds } from '../../src/main/engine/train/feature-needs.js';
import { createAdapterModel } from '../../src/main/engine/train/feature-adapter.js';
import { loadTeacher, ONNX_TEACHER_FILE, writeTeacherInfo } from '../../src/main/engine/teacher-model.js';
import type { StepMetric, Teacher, TrainSink } from '../../src/main/engine/train/train-types.js';
import type { TapWant } from '../../src/main/engine/models/feature-tap.js';
import { onnxModel, TINY_VALUES, tinyClassifierOnnx, tinyReference, tinyWeights, type TinyClassifierSpec, type TinyWeights } from '../helpers/onnx-graphs.js';

const S = 8;
const W = tinyWeights({ filters: 5, classes: 2, seed: 7 });
const CLASSES = ['circle', 'square'];
let tmp: string;

function pixels(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n * S * S * 3 }, () => {
    s = (Math.imul(s, 22695477) + 1) >>> 0;
    return Math.floor((s / 2 ** 32) * 256);
  });
}

/** The teacher's input range: [-1, 1]. */
const scaled = (x: Float32Array): Float32Array => x.map((v) => v / 127.5 - 1);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The conv → ReLU stage in tfjs (NHWC), from the ONNX weights: the reference spatial map. */
function referenceMap(x: Float32Array, n: number, size: number, w: TinyWeights): Float32Array {
  return tf.tidy(() => {
    const K = w.kernel;
    const kernel = tf.transpose(tf.tensor4d(w.conv, [w.filters, 3, K, K]), [2, 3, 1, 0]) as tf.Tensor4D;
    const y = tf.relu(tf.add(tf.conv2d(tf.tensor4d(scaled(x), [n, size, size, 3]), kernel, 1, 'same'), tf.tensor1d(w.convBias)));
    return y.dataSync() as Float32Array;
  });
}

/** A teacher folder holding `bytes` as an imported ONNX teacher expecting [-1, 1] pixels. */
async function onnxTeacher(name: string, bytes: Uint8Array, size = S, classes = CLASSES): Promise<{ teacher: Teacher; file: string }> {
  const modelDir = path.join(tmp, name);
  fs.mkdirSync(modelDir, { recursive: true });
  const file = path.join(modelDir, ONNX_TEACHER_FILE);
  fs.writeFileSync(file, bytes);
  writeTeacherInfo(modelDir, { format: 'onnx', inputRange: '-1-1' });
  return { teacher: await loadTeacher({ name, classes: ['circle', 'square'], inputSize: size, modelDir }, classes), file };
}

/** Input NHWC → Conv (NCHW inside) → Relu → back to NHWC → ReduceMean over H, W → MatMul + Add: a TF-style export. */
function nhwcReduceMeanOnnx(w: TinyWeights): Uint8Array {
  const K = w.kernel;
  const p = (K - 1) / 2;
  return onnxModel({
    inputs: [{ name: 'pixels', dims: ['N', S, S, 3] }],
    outputs: [{ name: 'logits', dims: ['N', w.classes] }],
    nodes: [
      { op: 'Transpose', inputs: ['pixels'], outputs: ['nchw'], attrs: { perm: [0, 3, 1, 2] } },
      { op: 'Conv', inputs: ['nchw', 'conv_w', 'conv_b'], outputs: ['conv_out'], attrs: { kernel_shape: [K, K], pads: [p, p, p, p], strides: [1, 1] } },
      { op: 'Relu', inputs: ['conv_out'], outputs: ['relu_nchw'] },
      { op: 'Transpose', inputs: ['relu_nchw'], outputs: ['relu_nhwc'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'ReduceMean', inputs: ['relu_nhwc'], outputs: ['gap'], attrs: { axes: [1, 2], keepdims: 0 } },
      { op: 'MatMul', inputs: ['gap', 'dense_w'], outputs: ['mm'] },
      { op: 'Add', inputs: ['mm', 'dense_b'], outputs: ['logits'] },
    ],
    initializers: [
      { name: 'conv_w', dims: [w.filters, 3, K, K], data: w.conv },
      { name: 'conv_b', dims: [w.filters], data: w.convBias },
      { name: 'dense_w', dims: [w.filters, w.classes], data: w.dense },
      { name: 'dense_b', dims: [w.classes], data: w.denseBias },
    ],
  });
}

/** Conv → Relu → Flatten → Gemm: pooled features by default, but no global pooling (no default map). */
function noPoolingOnnx(w: TinyWeights): Uint8Array {
  const K = w.kernel;
  const p = (K - 1) / 2;
  const flat = w.filters * S * S;
  return onnxModel({
    inputs: [{ name: 'pixels', dims: ['N', 3, S, S] }],
    outputs: [{ name: 'logits', dims: ['N', w.classes] }],
    nodes: [
      { op: 'Conv', inputs: ['pixels', 'conv_w', 'conv_b'], outputs: ['conv_out'], attrs: { kernel_shape: [K, K], pads: [p, p, p, p], strides: [1, 1] } },
      { op: 'Relu', inputs: ['conv_out'], outputs: ['relu_out'] },
      { op: 'Flatten', inputs: ['relu_out'], outputs: ['flat'], attrs: { axis: 1 } },
      { op: 'Gemm', inputs: ['flat', 'dense_w', 'dense_b'], outputs: ['logits'] },
    ],
    initializers: [
      { name: 'conv_w', dims: [w.filters, 3, K, K], data: w.conv },
      { name: 'conv_b', dims: [w.filters], data: w.convBias },
      { name: 'dense_w', dims: [flat, w.classes], data: new Float32Array(flat * w.classes).fill(0.01) },
      { name: 'dense_b', dims: [w.classes], data: w.denseBias },
    ],
  });
}

beforeAll(async () => {
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-onnx-taps-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('ONNX teacher taps', () => {
  const both: TapWant = { pooled: true, map: true };

  const specs: [string, Omit<TinyClassifierSpec, 'size' | 'weights'>][] = [
    ['NCHW input, Gemm, dynamic batch', { layout: 'NCHW' }],
    ['NHWC input transposed inside, MatMul + Add, softmax head', { layout: 'NHWC', dense: 'matmul', head: 'softmax' }],
    ['fixed batch of 4 (run in chunks)', { layout: 'NCHW', batch: 4 }],
  ];
  it.each(specs)('%s: default pooled features, map and logits equal the references', async (_name, spec) => {
    const { teacher } = await onnxTeacher(`tiny-${spec.layout}-${spec.batch ?? 'N'}-${spec.head ?? 'logits'}`, tinyClassifierOnnx({ size: S, weights: W, ...spec }));
    try {
      expect(await teacher.tapInfo!(both)).toEqual({ featureDim: W.filters });
      const n = 6;
      const x = pixels(n, 3);
      const ref = tinyReference(scaled(x), n, S, W);
      const t = await teacher.hostTapped!(x, n, both);
      expect(t.features!.dim).toBe(W.filters);
      expect(maxAbsDiff(t.features!.data, ref.features.flat())).toBeLessThan(1e-4);
      // A softmax head gives log-probabilities: the reference logits up to a constant per row.
      const want = ref.logits.map((row) => (spec.head === 'softmax' ? row.map((v) => v - Math.log(row.reduce((a, u) => a + Math.exp(u), 0))) : row));
      expect(maxAbsDiff(t.logits, want.flat())).toBeLessThan(1e-4);
      expect(t.map!.shape).toEqual([n, S, S, W.filters]);
      expect(maxAbsDiff(t.map!.data, referenceMap(x, n, S, W))).toBeLessThan(1e-4);
      // The same logits as the teacher's plain path.
      expect(maxAbsDiff(t.logits, await (teacher as { hostLogits(p: Float32Array, n: number): Promise<Float32Array> }).hostLogits(x, n))).toBeLessThan(1e-6);
    } finally {
      teacher.dispose?.();
    }
  });

  it('an NHWC value before ReduceMean is the default map (read as NHWC) and is averaged into the features', async () => {
    const { teacher } = await onnxTeacher('nhwc-reducemean', nhwcReduceMeanOnnx(W));
    try {
      expect(await teacher.tapInfo!(both)).toEqual({ featureDim: W.filters });
      const n = 3;
      const x = pixels(n, 5);
      const ref = tinyReference(scaled(x), n, S, W);
      const t = await teacher.hostTapped!(x, n, { pooled: true, map: true, layer: 'relu_nhwc' });
      expect(maxAbsDiff(t.features!.data, ref.features.flat())).toBeLessThan(1e-4);
      expect(maxAbsDiff(t.map!.data, referenceMap(x, n, S, W))).toBeLessThan(1e-4);
      const d = await teacher.hostTapped!(x, n, both);
      expect(maxAbsDiff(d.map!.data, t.map!.data)).toBe(0);
      expect(maxAbsDiff(d.logits, ref.logits.flat())).toBeLessThan(1e-4);
    } finally {
      teacher.dispose?.();
    }
  });

  it('the teacher\'s logits follow the run\'s class order', async () => {
    const { teacher } = await onnxTeacher('reordered', tinyClassifierOnnx({ size: S, weights: W, layout: 'NCHW' }), S, ['square', 'circle']);
    try {
      const x = pixels(2, 9);
      const ref = tinyReference(scaled(x), 2, S, W);
      const t = await teacher.hostTapped!(x, 2, { pooled: true, map: false });
      expect(maxAbsDiff(t.logits, ref.logits.flatMap((r) => [r[1]!, r[0]!]))).toBeLessThan(1e-4);
    } finally {
      teacher.dispose?.();
    }
  });

  it('named values: a spatial one averaged, a rank-2 one as it is; missing names and wrong ranks are refused naming the file and the value', async () => {
    const { teacher, file } = await onnxTeacher('named', tinyClassifierOnnx({ size: S, weights: W, layout: 'NCHW' }));
    try {
      const n = 2;
      const x = pixels(n, 4);
      const ref = tinyReference(scaled(x), n, S, W).features.flat();
      for (const layer of [TINY_VALUES.relu, TINY_VALUES.pooled, TINY_VALUES.flat]) {
        const want: TapWant = { pooled: true, map: false, layer };
        expect(await teacher.tapInfo!(want)).toEqual({ featureDim: W.filters });
        const t = await teacher.hostTapped!(x, n, want);
        expect(maxAbsDiff(t.features!.data, ref), layer).toBeLessThan(1e-4);
      }
      const esc = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      await expect(teacher.tapInfo!({ pooled: true, map: false, layer: 'nope' })).rejects.toThrow(new RegExp(`teacher "named" \\(${esc}\\) has no value "nope" in its graph \\(its last values: .*logits\\)`));
      await expect(teacher.tapInfo!({ pooled: false, map: true, layer: TINY_VALUES.flat })).rejects.toThrow(new RegExp(`${esc}\\): value "features" has shape \\[N, 5\\], not a spatial map`));
      await expect(teacher.tapInfo!({ pooled: true, map: false, layer: 'logits' })).resolves.toEqual({ featureDim: 2 });
    } finally {
      teacher.dispose?.();
    }
    const bare = await onnxTeacher('no-pooling', noPoolingOnnx(W));
    try {
      await expect(bare.teacher.tapInfo!({ pooled: true, map: false })).resolves.toEqual({ featureDim: W.filters * S * S });
      await expect(bare.teacher.tapInfo!({ pooled: false, map: true })).rejects.toThrow(/teacher "no-pooling" \(.*model\.onnx\) has no global average pooling before its output "logits", so it has no attention map/);
    } finally {
      bare.teacher.dispose?.();
    }
  });

  it('the run\'s check names the method, the file and the value', async () => {
    const { teacher } = await onnxTeacher('checked', tinyClassifierOnnx({ size: S, weights: W, layout: 'NCHW' }));
    try {
      const config = RunConfig.parse({ name: 'r', dataset: 'd', method: 'fitnets', teacher: 't', student: { arch: 'refnet', inputSize: 32 }, epochs: 1 });
      const students = [createModel({ arch: 'refnet', inputSize: 32, classes: 2, seed: 1 })];
      expect(await checkFeatureSources('fitnets', featureNeeds(config), teacher, students)).toEqual({ studentDim: 256, teacherDim: W.filters });
      await expect(checkFeatureSources('at', featureNeeds({ ...config, method: 'at' }), teacher, students, { teacher: 'missing_value' })).rejects.toThrow(
        /^method "at" reads the teacher's features; teacher "checked" \(.*model\.onnx\) has no value "missing_value" in its graph/,
      );
      students[0]!.dispose();
    } finally {
      teacher.dispose?.();
    }
  });
});

describe('training with an ONNX teacher', () => {
  let store: Store;
  let set: TrainingSet;
  let datasetId: number;

  beforeAll(async () => {
    const data = await makeSyntheticDataset({ dir: path.join(tmp, 'data'), labeledPerClass: 8, unlabeled: 8, valPerClass: 4, size: 40, seed: 2 });
    store = Store.open(path.join(tmp, 'home'));
    const ds = await importDataset(store, {
      name: 'shapes',
      folders: [
        { path: data.labeled, role: 'labeled' },
        { path: data.unlabeled, role: 'unlabeled' },
        { path: data.val, role: 'val' },
      ],
    });
    datasetId = ds.dataset.id;
  });
  afterAll(() => store.close());

  /** One run of the loop; per step its metrics and the live tensor count after it. */
  async function train(
    name: string,
    overrides: Record<string, unknown>,
    epochs: number,
  ): Promise<{ steps: { metrics: StepMetric[]; tensors: number }[]; epochEnd: number[]; tappedRuns: number }> {
    const config = RunConfig.parse({ name, dataset: String(datasetId), teacher: 'x', student: { arch: 'refnet', inputSize: 32 }, epochs, batchSize: 8, ...overrides });
    set = buildTrainingSet(store, datasetId, config);
    const { teacher } = await onnxTeacher(`teacher-${name}`, tinyClassifierOnnx({ size: 16, weights: tinyWeights({ filters: 6, classes: 2, seed: 3 }), layout: 'NHWC' }), 16, set.classes);
    // Counts the teacher's tapped runs (each one onnxruntime run returning logits and features together).
    let tappedRuns = 0;
    const hostTapped = teacher.hostTapped!;
    teacher.hostTapped = (px, n, want) => {
      tappedRuns++;
      return hostTapped(px, n, want);
    };
    const students = [createModel({ arch: 'refnet', inputSize: 32, classes: 2, seed: 1 })];
    const needs = featureNeeds(config);
    const dims = await checkFeatureSources(config.method, needs, teacher, students, config.loss.featureLayers);
    const adapter = needs.adapter ? { model: createAdapterModel(dims.studentDim!, dims.teacherDim!, 9), optimizer: tf.train.adam(0.001) } : undefined;
    const steps: { metrics: StepMetric[]; tensors: number }[] = [];
    const epochEnd: number[] = [];
    const sink: TrainSink = {
      step: (_s, _e, metrics) => void steps.push({ metrics, tensors: tf.memory().numTensors }),
      async epochEnd(_report, save) {
        await save(path.join(tmp, `ckpt-${name}-${epochEnd.length}`));
        epochEnd.push(tf.memory().numTensors);
      },
      control: () => 'run',
      progress() {},
      flag() {},
    };
    try {
      await trainLoop({ config, classes: set.classes, train: set.train, val: set.val, students, optimizers: [tf.train.adam(0.002)], teacher, adapter, startEpoch: 0, cacheDir: path.join(tmp, 'cache'), sink });
    } finally {
      teacher.dispose?.();
      students[0]!.dispose();
      adapter?.model.dispose();
    }
    return { steps, epochEnd, tappedRuns };
  }

  const part = (steps: { metrics: StepMetric[] }[], name: string): number[] => steps.flatMap((s) => s.metrics.filter((m) => m.name === name).map((m) => m.value));

  it('fitnets (live teacher) trains, its hint part finite and non-zero, and the tensor count stays flat across steps and epochs', async () => {
    const r = await train('fitnets', { method: 'fitnets', teacherCache: 'off' }, 3);
    const feat = part(r.steps, 'loss/feat');
    expect(feat.length).toBe(r.steps.length);
    expect(feat.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    // One teacher run per step gives both its logits and its features.
    expect(r.tappedRuns).toBe(r.steps.length);
    expect(r.epochEnd).toHaveLength(3);
    // Epoch 1 creates the optimizer slots; from then on nothing may accumulate, step by step.
    expect(r.epochEnd[2]).toBe(r.epochEnd[1]);
    const perEpoch = r.steps.length / 3;
    const later = r.steps.slice(perEpoch).map((s) => s.tensors);
    expect(new Set(later).size).toBe(1);
  }, 120_000);

  it('feature regression with the teacher cache on trains from the ONNX teacher\'s features', async () => {
    const r = await train('feat-cache', { method: 'kd', loss: { feature: { weight: 1, kind: 'mse' } }, teacherCache: 'views' }, 1);
    const feat = part(r.steps, 'loss/feat');
    expect(feat.length).toBe(r.steps.length);
    expect(feat.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    expect(part(r.steps, 'loss/kd').every(Number.isFinite)).toBe(true);
    // The teacher's features came from its tapped runs (whether the cache or the step asked for them).
    expect(r.tappedRuns).toBeGreaterThan(0);
  }, 120_000);

  it('attention transfer reads the ONNX teacher\'s spatial map', async () => {
    const r = await train('at', { method: 'at' }, 1);
    const at = part(r.steps, 'loss/at');
    expect(at.length).toBe(r.steps.length);
    expect(at.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
  }, 120_000);
});
