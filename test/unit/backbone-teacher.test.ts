// Backbone teachers on a stand-in the test makes: two visually distinct generated classes (warm vs cool
// noisy squares) and a tiny TF.js "backbone" saved as a model.json (1×1 conv → ReLU → global average
// pool → an unused 5-way head, like an ImageNet classifier). Also the bundled MobileNet's feature shape
// against plain tfjs, the feature cache across runs, the head's class balance and the refusal messages.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { loadModelDir, saveModelDir } from '../../src/main/engine/model-io.js';
import { loadTeacher } from '../../src/main/engine/teacher-model.js';
import { predictorLogits } from '../../src/main/engine/predict.js';
import { evalViews } from '../../src/main/engine/train/batches.js';
import { bundledBackboneModelJson, findBundledBackbone } from '../../src/main/engine/teachers/bundled-backbones.js';
import { FeatureCache } from '../../src/main/engine/teachers/feature-cache.js';
import { classWeights, headLogits, trainHead } from '../../src/main/engine/teachers/feature-head.js';
import { openBackbone } from '../../src/main/engine/teachers/open-backbone.js';
import { trainBackboneTeacher, type LabeledImage } from '../../src/main/engine/teachers/train-backbone-teacher.js';
import { Rng } from '../../src/main/engine/data/index.js';

const S = 16;
const CLASSES = ['cool', 'warm'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-backbone-'));
const backboneDir = path.join(tmp, 'tiny-backbone');
const quiet = { progress: () => undefined, info: () => undefined };
let train: LabeledImage[] = [];
let val: LabeledImage[] = [];

/** A 24×24 PNG: a warm (red-dominant) or cool (blue-dominant) color with per-pixel noise. */
async function writeImage(file: string, warm: boolean, rng: Rng): Promise<void> {
  const px = Buffer.alloc(24 * 24 * 3);
  const base = warm ? [200, 90, 40] : [40, 90, 200];
  for (let i = 0; i < 24 * 24; i++) for (let c = 0; c < 3; c++) px[i * 3 + c] = Math.max(0, Math.min(255, Math.round(base[c]! + rng.uniform(-60, 60))));
  await sharp(px, { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(file);
}

async function makeImages(role: string, perClass: number, seed: number): Promise<LabeledImage[]> {
  const rng = new Rng(seed);
  const out: LabeledImage[] = [];
  for (const [label, cls] of CLASSES.entries()) {
    const dir = path.join(tmp, role, cls);
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const file = path.join(dir, `${i}.png`);
      await writeImage(file, cls === 'warm', rng);
      out.push({ key: `${role}-${cls}-${i}`, path: file, label });
    }
  }
  return out;
}

/** x → 1×1 conv (R, G, B, R−B detectors) → ReLU → pool → 5-way softmax "ImageNet" head. */
async function writeTinyBackbone(dir: string): Promise<void> {
  const input = tf.input({ shape: [S, S, 3] });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', name: 'mix' });
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(conv.apply(input)) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, activation: 'softmax', name: 'imagenet' }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  conv.setWeights([tf.tensor4d([1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, -1], [1, 1, 3, 4]), tf.zeros([4])]);
  await saveModelDir(model, dir);
  model.dispose();
}

beforeAll(async () => {
  await initBackend();
  await writeTinyBackbone(backboneDir);
  train = await makeImages('labeled', 10, 1);
  val = await makeImages('val', 12, 2);
}, 60_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('bundled backbone', () => {
  it('mobilenet_v1_075 loads from the package and gives 768 pooled features equal to plain tfjs', async () => {
    const entry = findBundledBackbone('mobilenet_v1_075')!;
    expect(fs.existsSync(path.join(path.dirname(bundledBackboneModelJson(entry)), 'LICENSE'))).toBe(true);
    const b = await openBackbone({ backbone: 'mobilenet_v1_075' });
    try {
      expect([b.inputSize, b.featureDim, b.featureLayer]).toEqual([224, 768, 'global_average_pooling2d_1']);
      const x = tf.randomUniform([2, 224, 224, 3], 0, 255, 'float32', 7) as tf.Tensor4D;
      const f = await b.features(x);
      expect(f.length).toBe(2 * 768);
      // Reference: the same model.json loaded again, cut at the layer by hand, input scaled x/127.5 − 1.
      const plain = await loadModelDir(bundledBackboneModelJson(entry));
      const cut = tf.model({ inputs: plain.inputs, outputs: plain.getLayer('global_average_pooling2d_1').output as tf.SymbolicTensor });
      const ref = tf.tidy(() => cut.predict(tf.sub(tf.div(x, 127.5), 1)) as tf.Tensor).dataSync();
      let maxDiff = 0;
      for (let i = 0; i < f.length; i++) maxDiff = Math.max(maxDiff, Math.abs(f[i]! - ref[i]!));
      expect(maxDiff).toBeLessThan(1e-4);
      expect(Math.max(...f)).toBeGreaterThan(0.1); // real features, not zeros
      // Once checked against predict, the pass runs with BatchNorm folded into the convolutions.
      const kernels = (await tf.profile(async () => { await b.features(x); })).kernels.map((k) => k.name);
      expect(kernels).toContain('FusedConv2D');
      expect(kernels).not.toContain('FusedBatchNorm');
      plain.dispose();
      x.dispose();
    } finally {
      b.dispose();
    }
  }, 120_000);
});

describe('backbone teacher on a generated two-class set', () => {
  it('trains a head on cached features, saves one TF.js teacher that predicts like the features + head, and reuses the cache', async () => {
    const cache = new FeatureCache(path.join(tmp, 'cache-features'));
    const outDir = path.join(tmp, 'teacher-a');
    const b = await openBackbone({ backbone: path.join(backboneDir, 'model.json'), preprocessing: { range: '0-1' } });
    expect(b.featureLayer).toBe('pool'); // the default: the last global pooling layer
    try {
      const first = await trainBackboneTeacher({ backbone: b, classes: CLASSES, train, val, views: 2, head: { kind: 'linear', epochs: 80 }, cache, outDir, events: quiet });
      expect(first.computed).toBe(train.length * 2 + val.length);
      expect(first.cached).toBe(0);
      expect(first.valAccuracy).toBeGreaterThanOrEqual(0.95);
      expect(Object.keys(first.perClass!)).toEqual(CLASSES);
      expect(fs.readdirSync(cache.dir).filter((f) => f.endsWith('.bin'))).toHaveLength(first.computed);

      // The saved teacher is a plain model folder: loaded the way mining and eval load every teacher,
      // it gives the accuracy the trainer reported from the cached features.
      const info = JSON.parse(fs.readFileSync(path.join(outDir, 'distill-teacher.json'), 'utf8')) as { inputRange: string };
      expect(info.inputRange).toBe('0-1');
      const teacher = await loadTeacher({ name: 'a', classes: CLASSES, inputSize: S, modelDir: outDir }, CLASSES);
      let right = 0;
      for await (const batch of evalViews(val, S, { batchSize: 64 })) {
        const logits = await predictorLogits(teacher, batch.x, batch.indices.length);
        const pred = tf.tidy(() => tf.argMax(logits, 1).dataSync());
        logits.dispose();
        batch.indices.forEach((i, r) => (right += pred[r] === val[i]!.label ? 1 : 0));
      }
      teacher.dispose?.();
      expect(right / val.length).toBeCloseTo(first.valAccuracy!, 10);

      // Second run on the same images: no backbone pass at all, same result.
      const second = await trainBackboneTeacher({ backbone: b, classes: CLASSES, train, val, views: 2, head: { kind: 'linear', epochs: 80 }, cache, outDir: path.join(tmp, 'teacher-b'), events: quiet });
      expect(second.computed).toBe(0);
      expect(second.cached).toBe(train.length * 2 + val.length);
      expect(second.valAccuracy).toBe(first.valAccuracy);
      expect(second.headLoss).toBe(first.headLoss);

      // A third view is the only thing computed when asked for three.
      const third = await trainBackboneTeacher({ backbone: b, classes: CLASSES, train, val, views: 3, head: { kind: 'mlp', epochs: 40 }, cache, outDir: path.join(tmp, 'teacher-c'), events: quiet });
      expect(third.computed).toBe(train.length);
      expect(third.valAccuracy).toBeGreaterThanOrEqual(0.95);
    } finally {
      b.dispose();
    }
  }, 120_000);

  it('the saved model gives the same logits as the head on the features', async () => {
    const b = await openBackbone({ backbone: backboneDir, preprocessing: { range: '0-1' } });
    const outDir = path.join(tmp, 'teacher-d');
    try {
      await trainBackboneTeacher({ backbone: b, classes: CLASSES, train, val: [], views: 1, head: { kind: 'mlp', epochs: 20 }, cache: null, outDir, events: quiet });
      const model = await loadModelDir(outDir);
      const x = tf.randomUniform([3, S, S, 3], 0, 255, 'float32', 3) as tf.Tensor4D;
      const f = await b.features(x);
      // The head's weights read back from the saved file, applied to the features in float64 here.
      const dense = model.layers.filter((l) => l.name.startsWith('distill_head_'));
      expect(dense.map((l) => l.name)).toEqual(['distill_head_hidden0', 'distill_head_logits']);
      const [k1, b1] = dense[0]!.getWeights().map((w) => w.dataSync());
      const [k2, b2] = dense[1]!.getWeights().map((w) => w.dataSync());
      const H = b1!.length;
      const D = b.featureDim;
      const got = tf.tidy(() => (model.predict(tf.div(x, 255)) as tf.Tensor).dataSync());
      for (let n = 0; n < 3; n++) {
        const h = Array.from({ length: H }, (_, j) => Math.max(0, b1![j]! + Array.from({ length: D }, (_, d) => f[n * D + d]! * k1![d * H + j]!).reduce((a, c) => a + c, 0)));
        for (let c = 0; c < 2; c++) {
          const want = b2![c]! + h.reduce((a, hv, j) => a + hv * k2![j * 2 + c]!, 0);
          expect(got[n * 2 + c]!).toBeCloseTo(want, 4);
        }
      }
      model.dispose();
      x.dispose();
    } finally {
      b.dispose();
    }
  }, 60_000);
});

describe('class-balanced head', () => {
  it('weights each class by n / (C · n_class)', () => {
    expect(classWeights([0, 0, 0, 1], 2)).toEqual([4 / 6, 2]);
    expect(classWeights([0, 1, 1, 1, 1, 2], 3)).toEqual([2, 0.5, 2]);
  });

  it('recalls the rare class far better than an unweighted head on overlapping classes', async () => {
    // 1-D features: class 0 ~ N(0, 1) ×90, class 1 ~ N(1.5, 1) ×10; a balanced test set of each.
    const rng = new Rng(11);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const labels = [...Array(90).fill(0), ...Array(10).fill(1)] as number[];
    const x = Float32Array.from(labels, (l) => l * 1.5 + gauss());
    const testX = Float32Array.from({ length: 400 }, (_, i) => (i < 200 ? 0 : 1.5) + gauss());
    const recallOfRare = async (balanced: boolean) => {
      const head = await trainHead(x, labels, 1, { kind: 'linear', classes: 2, epochs: 300, lr: 0.05, l2: 0, batchSize: 100, balanced });
      const pred = tf.tidy(() => tf.argMax(headLogits(head, tf.tensor2d(testX, [400, 1])), 1).dataSync());
      let hit = 0;
      for (let i = 200; i < 400; i++) hit += pred[i] === 1 ? 1 : 0;
      return hit / 200;
    };
    const plain = await recallOfRare(false);
    const balanced = await recallOfRare(true);
    // Bayes boundary for equal priors is at 0.75 (recall ≈ 0.77); the 9:1 prior pushes it to ≈ 2.2 (recall ≈ 0.25).
    expect(balanced).toBeGreaterThan(0.6);
    expect(plain).toBeLessThan(0.45);
  }, 60_000);
});

describe('refusals', () => {
  it('names an unknown backbone, a missing feature layer and a missing ONNX file', async () => {
    await expect(openBackbone({ backbone: 'resnet_9000' })).rejects.toThrow(/unknown backbone "resnet_9000".*mobilenet_v1_075/);
    await expect(openBackbone({ backbone: backboneDir, featureLayer: 'nope' })).rejects.toThrow(/model\.json: feature layer "nope" not found.*pool/);
    await expect(openBackbone({ backbone: path.join(tmp, 'x.onnx') })).rejects.toThrow(/x\.onnx: cannot read it \(ENOENT\)/);
  });

  it('a non-pooling feature layer is pooled; a class without labeled images and a class mismatch are refused', async () => {
    const b = await openBackbone({ backbone: backboneDir, featureLayer: 'mix' });
    try {
      expect(b.featureDim).toBe(4);
      await expect(
        trainBackboneTeacher({ backbone: b, classes: [...CLASSES, 'grey'], train, val: [], views: 1, head: { kind: 'linear', epochs: 1 }, cache: null, outDir: path.join(tmp, 'refused'), events: quiet }),
      ).rejects.toThrow(/no labeled images for class\(es\) grey/);
      const outDir = path.join(tmp, 'teacher-e');
      await trainBackboneTeacher({ backbone: b, classes: CLASSES, train, val: [], views: 1, head: { kind: 'linear', epochs: 1 }, cache: null, outDir, events: quiet });
      await expect(loadTeacher({ name: 'e', classes: CLASSES, inputSize: S, modelDir: outDir }, ['cool', 'hot'])).rejects.toThrow(
        /teacher "e" has classes \[cool, warm\] but the dataset has \[cool, hot\]/,
      );
    } finally {
      b.dispose();
    }
  }, 60_000);
});
