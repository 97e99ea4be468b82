// The teacher soft-label cache (FKD style): each (image, view) computed once at the teacher's size,
// reused from its file by a later run without calling the teacher, equal to the live teacher on the
// same crop, keyed per image content, view and teacher (so runs on other sets of the same images share
// it), replayed as view (epoch mod V) by the training loop; old segments are pruned when a new one is
// written (the limits themselves: teacher-cache-prune.test.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig } from '../../src/shared/run-config.js';
import { decodeForTraining, trainSide } from '../../src/main/engine/data/decode.js';
import { ImageCache } from '../../src/main/engine/data/image-cache.js';
import { renderView, trainingView } from '../../src/main/engine/data/augment.js';
import { trainingBatches } from '../../src/main/engine/train/batches.js';
import {
  cachedView,
  ensureTeacherViews,
  teacherViewsKey,
  viewCount,
  viewIndex,
  type TeacherViewsSpec,
} from '../../src/main/engine/train/teacher-cache.js';
import { trainLoop } from '../../src/main/engine/train/train-loop.js';
import type { Teacher, TrainItem, TrainSink } from '../../src/main/engine/train/train-types.js';
import type { TensorPredictor } from '../../src/main/engine/predict.js';
import { applyTap, tapModel } from '../../src/main/engine/models/feature-tap.js';
import { createAdapterModel } from '../../src/main/engine/train/feature-adapter.js';
import { roundToFloat16 } from '../../src/main/engine/data/float16.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-teacher-cache-'));
const T = 40; // teacher size, ≠ the student's 32: views are replayed at another size
const CLASSES = ['a', 'b', 'c'];
const augment = { flip: true, cropScaleMin: 0.3 };
let items: TrainItem[] = [];
let net: tf.LayersModel;

/** The tiny teacher, counting the rows it is asked to label. */
function countingTeacher(): TensorPredictor & { name: string; rows: number } {
  const t = {
    name: 'tiny',
    inputSize: T,
    classes: CLASSES.length,
    rows: 0,
    logits: (x: tf.Tensor4D) => {
      t.rows += x.shape[0];
      return net.apply(tf.div(x, 255)) as tf.Tensor2D;
    },
  };
  return t;
}

/** The tiny teacher with its pooled features (the Dense head's input, 8·8·6 values), counting rows. */
const FEATURE_DIM = 8 * 8 * 6;
const POOLED = { pooled: true, map: false };
function tappedTeacher(): Teacher & { rows: number; tapped: NonNullable<Teacher['tapped']> } {
  const tap = tapModel(net, POOLED, 'the teacher');
  const t = {
    ...countingTeacher(),
    tapped: (x: tf.Tensor4D) => {
      t.rows += x.shape[0];
      const r = applyTap(tap, tf.div(x, 255) as tf.Tensor4D, false);
      return { logits: r.out, features: r.pooled! };
    },
    tapInfo: async () => ({ featureDim: FEATURE_DIM }),
  };
  return t;
}

/** A tiny student (pooled features: 8·8·4): what is under test is where its targets come from, not the network. */
function tinyStudent(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 4, kernelSize: 4, strides: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: CLASSES.length, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
    ],
  });
}

/** A run config on the tiny set (student refnet at 32 px as far as the loop's sizes go). */
const loopConfig = (over: Record<string, unknown>) =>
  RunConfig.parse({ name: 'r', dataset: 'd', teacher: 'tiny', student: { arch: 'refnet', inputSize: 32 }, batchSize: 3, seed: 7, ...over });

beforeAll(async () => {
  await tf.setBackend('cpu');
  // Random non-square images (the stored square is a center crop) with some structure for the teacher to see.
  for (let i = 0; i < 5; i++) {
    const w = 48 + 4 * i;
    const h = 40;
    const px = Buffer.alloc(w * h * 3);
    for (let p = 0; p < w * h; p++) {
      const x = p % w;
      const y = Math.floor(p / w);
      px[p * 3] = (x * (9 + i * 13)) & 0xff;
      px[p * 3 + 1] = (y * (5 + i * 7) + ((x * y) >> i)) & 0xff;
      px[p * 3 + 2] = (Math.sin(x / 3 + i) * 100 + 128 + y * i) & 0xff;
    }
    const file = path.join(tmp, `img${i}.png`);
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
    items.push({ key: `hash${i}`, path: file, label: null });
  }
  net = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [T, T, 3], filters: 6, kernelSize: 5, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: CLASSES.length, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Spec = TeacherViewsSpec & { items: readonly TrainItem[] };
const spec = (over: Partial<Spec> = {}): Spec => ({
  teacherId: 'teacher:1:tiny:123',
  teacherSize: T,
  classes: CLASSES,
  items,
  views: 3,
  seed: 7,
  augment,
  ...over,
});

describe('teacher soft-label cache', () => {
  it('labels each (item, view) once, stores it, and a second run reads the file without calling the teacher', async () => {
    const dir = path.join(tmp, 'views-a');
    const cache = new ImageCache({ spillDir: tmp, vipsThreads: null });
    const first = countingTeacher();
    const progress: [number, number][] = [];
    const a = await ensureTeacherViews({
      ...spec(),
      teacher: first,
      dir,
      batchSize: 2,
      cache,
      renderer: null,
      onProgress: (d, t) => progress.push([d, t]),
    });
    expect(a.source).toBe('computed');
    expect(first.rows).toBe(items.length * 3);
    expect(progress.at(-1)).toEqual([15, 15]);
    const files = fs.readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    const seg = files[0]!.replace(/\.bin$/, '');
    expect(files).toEqual([`${seg}.bin`, `${seg}.json`]);
    expect(fs.statSync(path.join(dir, `${seg}.bin`)).size).toBe(items.length * 3 * CLASSES.length * 4);
    for (let r = 0; r < items.length * 3; r++) {
      const row = Array.from(a.probs.subarray(r * 3, r * 3 + 3));
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }

    const second = countingTeacher();
    const b = await ensureTeacherViews({ ...spec(), teacher: second, dir, batchSize: 2, cache, renderer: null });
    expect(b.source).toBe('file');
    expect(b.computedRows).toBe(0);
    expect(second.rows).toBe(0);
    expect(b.key).toBe(a.key);
    expect(Buffer.from(b.probs.buffer).equals(Buffer.from(a.probs.buffer))).toBe(true);

    // Another seed is another set of crops: computed afresh, beside the first file.
    const third = countingTeacher();
    const c = await ensureTeacherViews({ ...spec({ seed: 8 }), teacher: third, dir, batchSize: 2, cache, renderer: null });
    expect(c.source).toBe('computed');
    expect(third.rows).toBe(items.length * 3);
    expect(fs.readdirSync(dir)).toHaveLength(4);
  });

  it('a new file prunes entries unused for long; a hit marks its entry as used', async () => {
    const dir = path.join(tmp, 'views-prune');
    fs.mkdirSync(dir, { recursive: true });
    const stale = 'f'.repeat(32);
    const longAgo = new Date(Date.now() - 60 * 24 * 3600 * 1000);
    for (const ext of ['bin', 'json']) {
      fs.writeFileSync(path.join(dir, `${stale}.${ext}`), 'x');
      fs.utimesSync(path.join(dir, `${stale}.${ext}`), longAgo, longAgo);
    }
    const cache = new ImageCache({ spillDir: tmp, vipsThreads: null });
    await ensureTeacherViews({ ...spec({ views: 1 }), teacher: countingTeacher(), dir, batchSize: 4, cache, renderer: null });
    const files = fs.readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files.some((f) => f.startsWith(stale))).toBe(false);
    const seg = files[0]!.replace(/\.bin$/, '');

    for (const ext of ['bin', 'json']) fs.utimesSync(path.join(dir, `${seg}.${ext}`), longAgo, longAgo);
    const before = Date.now();
    const b = await ensureTeacherViews({ ...spec({ views: 1 }), teacher: countingTeacher(), dir, batchSize: 4, cache, renderer: null });
    expect(b.source).toBe('file');
    for (const ext of ['bin', 'json']) expect(fs.statSync(path.join(dir, `${seg}.${ext}`)).mtimeMs).toBeGreaterThanOrEqual(before - 1000);
  });

  it('stores what the live teacher outputs on the same view rendered at its own size', async () => {
    const V = 3;
    const views = await ensureTeacherViews({ ...spec(), teacher: countingTeacher(), dir: null, batchSize: 4, renderer: null, cache: new ImageCache({ spillDir: tmp, vipsThreads: null }) });
    const teacher = countingTeacher();
    const side = trainSide(T);
    let maxDiff = 0;
    let viewSpread = 0;
    for (let i = 0; i < items.length; i++) {
      const src = await decodeForTraining(items[i]!.path, T);
      for (let v = 0; v < V; v++) {
        const x = new Float32Array(T * T * 3);
        renderView(src, side, trainingView(7, v, viewIndex(items[i]!.key), augment), T, x, 0);
        const p = tf.tidy(() => tf.softmax(teacher.logits(tf.tensor4d(x, [1, T, T, 3]))).dataSync());
        const cached = views.rows([i], v)!;
        for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(p[c]! - cached[c]!));
        const v0 = views.rows([i], 0)!;
        for (let c = 0; c < 3; c++) viewSpread = Math.max(viewSpread, Math.abs(cached[c]! - v0[c]!));
      }
    }
    expect(maxDiff).toBeLessThan(1e-5);
    // The views are different crops, so the teacher's outputs differ between them (the check above is not vacuous).
    expect(viewSpread).toBeGreaterThan(1e-3);
  });

  it('keys the bucket on the teacher, its size, classes, seed and augmentation, not on the run\'s images or V', () => {
    const base = teacherViewsKey(spec());
    expect(teacherViewsKey(spec())).toBe(base);
    // The default aspect range spelled out is the same crops.
    expect(teacherViewsKey(spec({ augment: { ...augment, aspectMin: 3 / 4, aspectMax: 4 / 3 } }))).toBe(base);
    // Images and views are keyed per entry inside the bucket: any set of the same images shares it.
    expect(teacherViewsKey(spec({ items: items.slice(1) }))).toBe(base);
    expect(teacherViewsKey(spec({ items: [...items].reverse(), views: 4 }))).toBe(base);
    const changed = [
      spec({ seed: 8 }),
      spec({ teacherId: 'teacher:1:tiny:124' }),
      spec({ teacherSize: 48 }),
      spec({ augment: { ...augment, flip: false } }),
      spec({ augment: { ...augment, cropScaleMin: 0.5 } }),
      spec({ classes: ['b', 'a', 'c'] }),
    ].map(teacherViewsKey);
    expect(new Set([base, ...changed]).size).toBe(changed.length + 1);
  });

  it('epoch e replays view e mod V: the batches show it and the targets are its rows', async () => {
    expect([1, 2, 4, 5, 100].map((e) => viewCount(e))).toEqual([1, 2, 4, 4, 4]);
    // Asked for: as many as the run has epochs to show, at least one.
    expect([viewCount(30, 30), viewCount(30, 12), viewCount(5, 12), viewCount(5, 1), viewCount(3, 0)]).toEqual([30, 12, 5, 1, 1]);
    const V = 3;
    const viewFn = cachedView(7, V, augment, items);
    for (const e of [0, 2, 3, 7]) {
      for (let i = 0; i < items.length; i++) expect(viewFn(i, e)).toEqual(trainingView(7, e % V, viewIndex(items[i]!.key), augment));
    }
    // Through the training batcher at the student's size: every row shows its item's view (epoch mod V).
    for await (const b of trainingBatches(items, { size: 32, batchSize: 2, seed: 7, epoch: 4, augment, view: viewFn })) {
      expect(b.views).toEqual(b.indices.map((i) => trainingView(7, 1, viewIndex(items[i]!.key), augment)));
    }
    const views = await ensureTeacherViews({ ...spec(), teacher: countingTeacher(), dir: null, batchSize: 8, renderer: null, cache: new ImageCache({ spillDir: tmp, vipsThreads: null }) });
    const rows = views.rows([3, 0], 5)!; // view 2
    expect(Array.from(rows)).toEqual([...views.probs.subarray((3 * V + 2) * 3, (3 * V + 3) * 3), ...views.probs.subarray((0 * V + 2) * 3, (0 * V + 3) * 3)]);
  });

  it('leaves no target for an image that cannot be decoded (the loop falls back to the live teacher there)', async () => {
    const bad = path.join(tmp, 'broken.png');
    fs.writeFileSync(bad, 'not an image');
    const withBad = [...items.slice(0, 2), { key: 'bad', path: bad, label: null }];
    const teacher = countingTeacher();
    const views = await ensureTeacherViews({ ...spec({ items: withBad, views: 2 }), teacher, dir: null, batchSize: 4, renderer: null, cache: new ImageCache({ spillDir: tmp, vipsThreads: null }) });
    expect(teacher.rows).toBe(4);
    expect(views.missing.sort()).toEqual([4, 5]);
    expect(views.rows([0, 2], 1)).toBeNull();
    expect(views.rows([1, 0], 1)).not.toBeNull();
  });

  it('entries are per image and view: another set of the same images, or more views, computes only what is new', async () => {
    const dir = path.join(tmp, 'views-shared');
    const cache = new ImageCache({ spillDir: tmp, vipsThreads: null });
    const first = countingTeacher();
    const a = await ensureTeacherViews({ ...spec({ items: items.slice(0, 3), views: 2 }), teacher: first, dir, batchSize: 2, cache, renderer: null });
    expect(first.rows).toBe(3 * 2);
    // A superset in another order, with more views: only the 2 new images × 2 views and the 3rd view of all 5.
    const order = [4, 2, 0, 3, 1];
    const second = countingTeacher();
    const b = await ensureTeacherViews({ ...spec({ items: order.map((i) => items[i]!), views: 3 }), teacher: second, dir, batchSize: 2, cache, renderer: null });
    expect(second.rows).toBe(2 * 2 + 5);
    expect(b.computedRows).toBe(2 * 2 + 5);
    expect(b.source).toBe('mixed');
    // The reused rows are the first run's, bit for bit, at their new positions.
    order.forEach((orig, pos) => {
      if (orig > 2) return;
      for (const v of [0, 1]) expect(Array.from(b.rows([pos], v)!)).toEqual(Array.from(a.rows([orig], v)!));
    });
    // And what was reused equals what the teacher computes afresh (no cache) on the same views.
    const fresh = await ensureTeacherViews({ ...spec({ items: order.map((i) => items[i]!), views: 3 }), teacher: countingTeacher(), dir: null, batchSize: 5, cache, renderer: null });
    for (let r = 0; r < b.probs.length; r++) expect(Math.abs(b.probs[r]! - fresh.probs[r]!)).toBeLessThan(1e-6);
    // A subset now: nothing new.
    const third = countingTeacher();
    const c = await ensureTeacherViews({ ...spec({ items: [items[3]!, items[0]!], views: 3 }), teacher: third, dir, batchSize: 2, cache, renderer: null });
    expect(third.rows).toBe(0);
    expect(c.source).toBe('file');
  });

  it("the training loop: 'views' labels once before epoch 0 and a second run calls no teacher; 'off' runs it every step", async () => {
    const run = async (teacherCache: 'off' | 'views', epochs: number, teacher: Teacher, method: 'ssld' | 'kd' = 'ssld', train: TrainItem[] = items, teacherViews?: number) => {
      const config = loopConfig({ method, data: { useLabels: method === 'kd', useUnlabeled: method !== 'kd', augment }, epochs, teacherCache, ...(teacherViews && { teacherViews }) });
      const student = tinyStudent();
      const progress: string[] = [];
      const losses: number[] = [];
      const info: string[] = [];
      const sink: TrainSink = {
        step: (_s, _e, m) => losses.push(m.find((x) => x.name === (method === 'kd' ? 'loss/kd' : 'loss/js'))!.value),
        info: (msg) => info.push(msg),
        epochEnd: async () => undefined,
        control: () => 'run',
        progress: (d, t, msg) => progress.push(`${msg} ${d}/${t}`),
        flag: () => undefined,
      };
      await trainLoop({
        config,
        classes: CLASSES,
        train,
        val: [],
        students: [student],
        optimizers: [tf.train.adam(1e-3)],
        teacher,
        teacherId: 'teacher:9:tiny:1',
        startEpoch: 0,
        cacheDir: path.join(tmp, 'home-cache'),
        sink,
      });
      student.dispose();
      return { progress, losses, info };
    };
    const t1 = countingTeacher();
    const r1 = await run('views', 5, t1);
    expect(t1.rows).toBe(items.length * 4); // V = min(5, 4), all before the first step
    expect(r1.progress[0]).toBe('teacher soft labels 0/20');
    expect(r1.progress).toContain('teacher soft labels 20/20');
    expect(r1.losses).toHaveLength(10);
    expect(r1.losses.every(Number.isFinite)).toBe(true);
    expect(r1.info).toEqual(['teacher soft labels: 20 view(s) computed, 0 reused from the cache']);
    expect(fs.readdirSync(path.join(tmp, 'home-cache', 'teacher-views'))).toHaveLength(2);

    const t2 = countingTeacher();
    const r2 = await run('views', 5, t2);
    expect(t2.rows).toBe(0);
    expect(r2.losses).toEqual(r1.losses); // the same targets replayed from the file

    const t3 = countingTeacher();
    await run('off', 2, t3);
    expect(t3.rows).toBe(items.length * 2);

    // A kd run on some of the same images (labeled now), same teacher and seed: every view is reused.
    const t4 = countingTeacher();
    const labeled = items.slice(1, 4).map((it, i) => ({ ...it, label: i % CLASSES.length }));
    const r4 = await run('views', 4, t4, 'kd', labeled);
    expect(t4.rows).toBe(0);
    expect(r4.info).toContain('teacher soft labels: 0 view(s) computed, 12 reused from the cache');
    expect(r4.losses.every(Number.isFinite)).toBe(true);

    // teacherViews 5 over 5 epochs: a fresh view every epoch; the 4 stored ones are reused, the 5th computed.
    const t5 = countingTeacher();
    const r5 = await run('views', 5, t5, 'ssld', items, 5);
    expect(t5.rows).toBe(items.length);
    expect(r5.info).toEqual([`teacher soft labels: ${items.length} view(s) computed, ${items.length * 4} reused from the cache`]);
    expect(r5.losses).toHaveLength(10);
  });
});

describe('teacher features in the cache (feature distillation)', () => {
  const features = { layer: null, dim: FEATURE_DIM };

  it('stores float16 pooled features per (item, view) beside the soft labels; a second run reads them without the teacher', async () => {
    const dir = path.join(tmp, 'views-features');
    const cache = new ImageCache({ spillDir: tmp, vipsThreads: null });
    const first = tappedTeacher();
    const a = await ensureTeacherViews({ ...spec({ features }), teacher: first, dir, batchSize: 2, cache, renderer: null });
    expect(first.rows).toBe(items.length * 3);
    const files = fs.readdirSync(dir).sort();
    expect(files.map((f) => path.extname(f))).toEqual(['.bin', '.f16', '.json']);
    expect(fs.statSync(path.join(dir, files[1]!)).size).toBe(items.length * 3 * FEATURE_DIM * 2);

    // Each row is the live teacher's features on that view, rounded to float16.
    const side = trainSide(T);
    let maxRel = 0;
    let spread = 0;
    for (let i = 0; i < items.length; i++) {
      const src = await decodeForTraining(items[i]!.path, T);
      for (let v = 0; v < 3; v++) {
        const x = new Float32Array(T * T * 3);
        renderView(src, side, trainingView(7, v, viewIndex(items[i]!.key), augment), T, x, 0);
        const live = tf.tidy(() => tappedTeacher().tapped(tf.tensor4d(x, [1, T, T, 3]), POOLED).features!.dataSync() as Float32Array);
        const want = roundToFloat16(live);
        const got = a.featureRows([i], v)!;
        for (let d = 0; d < FEATURE_DIM; d++) maxRel = Math.max(maxRel, Math.abs(got[d]! - want[d]!) / (Math.abs(want[d]!) + 1e-3));
        const v0 = a.featureRows([i], 0)!;
        for (let d = 0; d < FEATURE_DIM; d++) spread = Math.max(spread, Math.abs(got[d]! - v0[d]!));
      }
    }
    expect(maxRel).toBeLessThan(2e-3); // one float16 step at most (tfjs may differ in the last float32 bits)
    expect(spread).toBeGreaterThan(1e-2); // views differ, so the comparison above is not vacuous

    const second = tappedTeacher();
    const b = await ensureTeacherViews({ ...spec({ features }), teacher: second, dir, batchSize: 2, cache, renderer: null });
    expect(second.rows).toBe(0);
    expect(b.source).toBe('file');
    expect(Buffer.from(b.features!.buffer).equals(Buffer.from(a.features!.buffer))).toBe(true);
    expect(Array.from(b.featureRows([4, 1], 5)!)).toEqual(Array.from(a.featureRows([4, 1], 2)!));
  });

  it('feature buckets are their own: soft-label-only files are not taken for them, nor one layer for another', () => {
    const plain = teacherViewsKey(spec());
    const withFeatures = teacherViewsKey(spec({ features }));
    const otherLayer = teacherViewsKey(spec({ features: { layer: 'conv2d_2', dim: 6 } }));
    expect(new Set([plain, withFeatures, otherLayer]).size).toBe(3);
  });

  it('the training loop: feature regression reads the cached features; the teacher runs only in the cache pass', async () => {
    const run = async (teacher: Teacher, teacherCache: 'off' | 'views') => {
      const config = loopConfig({ method: 'ssld', data: { useLabels: false, useUnlabeled: true, augment }, loss: { feature: { weight: 1, kind: 'mse' } }, epochs: 3, teacherCache });
      const student = tinyStudent();
      const adapter = { model: createAdapterModel(8 * 8 * 4, FEATURE_DIM, 3), optimizer: tf.train.adam(1e-3) };
      const feat: number[] = [];
      const info: string[] = [];
      await trainLoop({
        config,
        classes: CLASSES,
        train: items,
        val: [],
        students: [student],
        optimizers: [tf.train.adam(1e-3)],
        teacher,
        adapter,
        teacherId: 'teacher:9:tiny:features',
        startEpoch: 0,
        cacheDir: path.join(tmp, 'home-cache-features'),
        sink: {
          step: (_s, _e, m) => feat.push(m.find((x) => x.name === 'loss/feat')!.value),
          info: (msg) => info.push(msg),
          epochEnd: async () => undefined,
          control: () => 'run',
          progress: () => undefined,
          flag: () => undefined,
        },
      });
      student.dispose();
      adapter.model.dispose();
      return { feat, info };
    };
    const t1 = tappedTeacher();
    const r1 = await run(t1, 'views');
    expect(t1.rows).toBe(items.length * 3); // V = 3 views, computed before the first step, never again
    expect(r1.info).toEqual([`teacher soft labels and features: ${items.length * 3} view(s) computed, 0 reused from the cache`]);
    expect(r1.feat).toHaveLength(6);
    expect(r1.feat.every((v) => Number.isFinite(v) && v > 0)).toBe(true);

    const t2 = tappedTeacher();
    const r2 = await run(t2, 'views');
    expect(t2.rows).toBe(0);
    expect(r2.feat).toEqual(r1.feat);

    // Without the cache the teacher runs at every step (and the loss still has its feature part).
    const t3 = tappedTeacher();
    const r3 = await run(t3, 'off');
    expect(t3.rows).toBe(items.length * 3);
    expect(r3.feat.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
  });
});
