// Feature distillation's pieces: the feat loss against a float64 reference and finite differences,
// float16 storage (the backbone feature cache and float16 exports), the adapter kept out of the student's checkpoint model.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { COSINE_EPS, featureLoss, type FeatureLossKind } from '../../src/main/engine/losses/index.js';
import { float32ToFloat16Bits as toFloat16Bits, float16BitsToFloat32 as fromFloat16Bits } from '../../src/main/engine/data/float16.js';
import { createAdapterModel } from '../../src/main/engine/train/feature-adapter.js';
import { loadCheckpointStudent, readCheckpointState, restoreAdapter, saveCheckpoint } from '../../src/main/engine/train/checkpoint.js';
import { createModel } from '../../src/main/engine/models/index.js';
import { pooledDim } from '../../src/main/engine/models/feature-tap.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type M = number[][];
function refLoss(a: M, t: M, kind: FeatureLossKind): number {
  if (kind === 'mse') {
    let s = 0;
    for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i]!.length; j++) s += (a[i]![j]! - t[i]![j]!) ** 2;
    return s / (a.length * a[0]!.length);
  }
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    let dot = 0;
    let na = 0;
    let nt = 0;
    for (let j = 0; j < a[i]!.length; j++) {
      dot += a[i]![j]! * t[i]![j]!;
      na += a[i]![j]! ** 2;
      nt += t[i]![j]! ** 2;
    }
    s += 1 - dot / (Math.sqrt(na + COSINE_EPS) * Math.sqrt(nt + COSINE_EPS));
  }
  return s / a.length;
}

function rand(rows: number, cols: number, seed: number): M {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 4 - 2;
  return Array.from({ length: rows }, () => Array.from({ length: cols }, next));
}

describe('feat loss', () => {
  const a = rand(5, 7, 1);
  const t = rand(5, 7, 2);
  it.each(['mse', 'cosine'] as const)('%s equals the float64 reference and its gradient the finite differences', (kind) => {
    const ta = tf.tensor2d(a);
    const tt = tf.tensor2d(t);
    const value = featureLoss(ta, tt, kind).feat.dataSync()[0]!;
    expect(value).toBeCloseTo(refLoss(a, t, kind), 5);
    const g = tf.grad((x: tf.Tensor) => featureLoss(x as tf.Tensor2D, tt, kind).feat)(ta).arraySync() as M;
    const h = 1e-4;
    for (const [i, j] of [[0, 0], [2, 3], [4, 6], [1, 5]] as const) {
      const plus = a.map((r) => [...r]);
      const minus = a.map((r) => [...r]);
      plus[i]![j]! += h;
      minus[i]![j]! -= h;
      const fd = (refLoss(plus, t, kind) - refLoss(minus, t, kind)) / (2 * h);
      expect(g[i]![j]!).toBeCloseTo(fd, 4);
    }
    // The teacher's features are a fixed target.
    const gt = tf.grad((y: tf.Tensor) => featureLoss(ta, y as tf.Tensor2D, kind).feat)(tt);
    expect(tf.max(tf.abs(gt)).dataSync()[0]).toBe(0);
  });

  it('cosine ignores scale, mse does not', () => {
    const ta = tf.tensor2d(a);
    const scaled = tf.mul(ta, 3) as tf.Tensor2D;
    expect(featureLoss(ta, scaled, 'cosine').feat.dataSync()[0]).toBeCloseTo(0, 6);
    expect(featureLoss(ta, scaled, 'mse').feat.dataSync()[0]).toBeGreaterThan(0.1);
  });
});

describe('float16 storage', () => {
  it('encodes exact values to their IEEE half bit patterns', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(0.1)).toBe(0x2e66);
    expect(fromFloat16Bits(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(fromFloat16Bits(0x0001)).toBe(2 ** -24);
  });

  it('round-trips within half a unit in the last place (2^-11 relative)', () => {
    const src = new Float32Array(2000).map((_, i) => Math.sin(i * 12.9898) * 6 * (i % 7 === 0 ? 0.001 : 1));
    const back = src.map((v) => fromFloat16Bits(toFloat16Bits(v)));
    for (let i = 0; i < src.length; i++) {
      const tol = Math.max(Math.abs(src[i]!) * 2 ** -11, 2 ** -25);
      expect(Math.abs(back[i]! - src[i]!)).toBeLessThanOrEqual(tol);
    }
  });
});

describe('the adapter in checkpoints', () => {
  it('is saved beside the student, never inside it, and restores for resume', async () => {
    const student = createModel({ arch: 'refnet', inputSize: 32, classes: 2, seed: 1 });
    expect(pooledDim(student)).toBe(256);
    const adapter = { model: createAdapterModel(256, 40, 3), optimizer: tf.train.adam(1e-3) };
    const feats = tf.randomNormal([6, 256], 0, 1, 'float32', 4);
    adapter.optimizer.minimize(() => tf.mean(tf.square(adapter.model.apply(feats, { training: true }) as tf.Tensor)) as tf.Scalar);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'adapter-ckpt-'));
    onTestFinished(() => fs.rmSync(root, { recursive: true, force: true }));
    const dir = path.join(root, 'c');
    await saveCheckpoint(dir, [student], [tf.train.adam(1e-3)], { epoch: 0, step: 1 }, adapter);
    expect(readCheckpointState(dir).adapter).toBe(true);
    const back = await loadCheckpointStudent(dir, 0);
    expect(back.layers.map((l) => l.name).filter((n) => n.startsWith('adapter'))).toEqual([]);
    expect(back.countParams()).toBe(student.countParams());
    const fresh = { model: createAdapterModel(256, 40, 99), optimizer: tf.train.adam(1e-3) };
    expect(await restoreAdapter(dir, fresh)).toBe(true);
    const x = tf.randomNormal([3, 256], 0, 1, 'float32', 5);
    const d = tf.max(tf.abs(tf.sub(adapter.model.predict(x) as tf.Tensor, fresh.model.predict(x) as tf.Tensor))).dataSync()[0];
    expect(d).toBe(0);
  });
});
