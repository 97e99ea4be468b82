// RKD, attention transfer and UDML's peer feature distance against independent plain-JS float64
// references (written from the papers' formulas), properties the papers state, and gradients
// against central finite differences of the references.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { atLoss, peerFeatureLoss, rkdLoss } from '../../src/main/engine/losses/index.js';
import { centralDiff, relErr } from '../helpers/numeric.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type M = number[][];
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const val = (s: tf.Tensor) => s.dataSync()[0]!;
function rand(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}
const fdAt = (f: (x: number[]) => number, x: number[]) => centralDiff(f, x, 1e-6);
const rows = (flat: number[], d: number): M => Array.from({ length: flat.length / d }, (_, i) => flat.slice(i * d, (i + 1) * d));


// ---- RKD reference ----
const huber = (x: number) => (Math.abs(x) < 1 ? 0.5 * x * x : Math.abs(x) - 0.5);
const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));
function normDist(f: M): M {
  const n = f.length;
  const d = f.map((a) => f.map((b) => dist(a, b)));
  let sum = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) sum += d[i]![j]!;
  const mu = sum / (n * (n - 1));
  return d.map((r) => r.map((v) => v / mu));
}
function angleRef(f: M): number[] {
  const n = f.length;
  const out: number[] = [];
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++)
      for (let k = 0; k < n; k++) {
        const eij = f[i]!.map((v, c) => v - f[j]![c]!);
        const ekj = f[k]!.map((v, c) => v - f[j]![c]!);
        const ni = Math.hypot(...eij);
        const nk = Math.hypot(...ekj);
        out.push(ni === 0 || nk === 0 ? 0 : eij.reduce((s, v, c) => s + v * ekj[c]!, 0) / (ni * nk));
      }
  return out;
}
function rkdRef(s: M, t: M, wd: number, wa: number): { rkd_dist: number; rkd_angle: number } {
  const n = s.length;
  const ds = normDist(s);
  const dt = normDist(t);
  let sum = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) sum += huber(ds[i]![j]! - dt[i]![j]!);
  const as = angleRef(s);
  const at = angleRef(t);
  return { rkd_dist: (wd * sum) / (n * (n - 1)), rkd_angle: wa * mean(as.map((v, i) => huber(v - at[i]!))) };
}

describe('rkd', () => {
  const S = rows(rand(5 * 4, 1), 4); // 5 images, student dim 4
  const T = rows(rand(5 * 6, 2).map((v) => 3 * v), 6); // teacher dim 6, other scale
  it('matches the float64 reference (distance and angle parts)', () => {
    const got = tf.tidy(() => {
      const p = rkdLoss(tf.tensor2d(S), tf.tensor2d(T), { distanceWeight: 25, angleWeight: 50 });
      return { d: val(p.rkd_dist!), a: val(p.rkd_angle!) };
    });
    const ref = rkdRef(S, T, 25, 50);
    expect(ref.rkd_dist).toBeGreaterThan(0.01);
    expect(got.d).toBeCloseTo(ref.rkd_dist, 4);
    expect(got.a).toBeCloseTo(ref.rkd_angle, 4);
  });
  it('is 0 for a student that is a rotated, scaled and shifted copy of the teacher (relations only)', () => {
    const t = rows(rand(6 * 3, 5), 3);
    const c = Math.cos(0.7);
    const sn = Math.sin(0.7);
    const s = t.map(([x, y, z]) => [2.5 * (c * x! - sn * y!) + 1, 2.5 * (sn * x! + c * y!) - 2, 2.5 * z! + 0.5]);
    const p = tf.tidy(() => {
      const r = rkdLoss(tf.tensor2d(s), tf.tensor2d(t), { distanceWeight: 25, angleWeight: 50 });
      return [val(r.rkd_dist!), val(r.rkd_angle!)];
    });
    expect(p[0]).toBeLessThan(1e-4);
    expect(p[1]).toBeLessThan(1e-4);
  });
  it('gradient against finite differences of the reference', () => {
    const flat = S.flat();
    const g = Array.from(
      tf.tidy(() =>
        tf.grad((x: tf.Tensor) => {
          const p = rkdLoss(x as tf.Tensor2D, tf.tensor2d(T), { distanceWeight: 25, angleWeight: 50 });
          return tf.add(p.rkd_dist!, p.rkd_angle!) as tf.Scalar;
        })(tf.tensor2d(S)).dataSync(),
      ),
    );
    const ref = fdAt((x) => {
      const r = rkdRef(rows(x, 4), T, 25, 50);
      return r.rkd_dist + r.rkd_angle;
    }, flat);
    expect(g.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(relErr(g, ref)).toBeLessThan(1e-3);
  });
  it('refuses mismatched batches and negative weights', () => {
    expect(() => tf.tidy(() => rkdLoss(tf.zeros([3, 2]), tf.zeros([4, 2]), { distanceWeight: 1, angleWeight: 1 }))).toThrow(/rows/);
    expect(() => tf.tidy(() => rkdLoss(tf.zeros([3, 2]), tf.zeros([3, 2]), { distanceWeight: -1, angleWeight: 1 }))).toThrow(/≥ 0/);
  });
});

// ---- AT reference ----
/** F NHWC flat → Q [N][H][W] = mean_c F². */
function energy(f: number[], n: number, h: number, w: number, c: number): number[][][] {
  return Array.from({ length: n }, (_, b) =>
    Array.from({ length: h }, (_, y) =>
      Array.from({ length: w }, (_, x) => {
        let s = 0;
        for (let k = 0; k < c; k++) s += f[((b * h + y) * w + x) * c + k]! ** 2;
        return s / c;
      }),
    ),
  );
}
/** Bilinear resize with half-pixel centres (as tf.image.resizeBilinear(…, false, true)). */
function resize(q: number[][], oh: number, ow: number): number[][] {
  const ih = q.length;
  const iw = q[0]!.length;
  const src = (o: number, inN: number, outN: number) => {
    const v = Math.max(0, (o + 0.5) * (inN / outN) - 0.5);
    const lo = Math.min(Math.floor(v), inN - 1);
    return { lo, hi: Math.min(lo + 1, inN - 1), t: v - lo };
  };
  return Array.from({ length: oh }, (_, y) => {
    const sy = src(y, ih, oh);
    return Array.from({ length: ow }, (_, x) => {
      const sx = src(x, iw, ow);
      const top = q[sy.lo]![sx.lo]! * (1 - sx.t) + q[sy.lo]![sx.hi]! * sx.t;
      const bot = q[sy.hi]![sx.lo]! * (1 - sx.t) + q[sy.hi]![sx.hi]! * sx.t;
      return top * (1 - sy.t) + bot * sy.t;
    });
  });
}
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
function atRef(fs: number[], sShape: number[], ft: number[], tShape: number[], beta: number): number {
  const [n, h, w, c] = sShape as [number, number, number, number];
  const qs = energy(fs, n, h, w, c);
  const qt = energy(ft, tShape[0]!, tShape[1]!, tShape[2]!, tShape[3]!).map((m) => (tShape[1] === h && tShape[2] === w ? m : resize(m, h, w)));
  const diffs: number[] = [];
  for (let b = 0; b < n; b++) {
    const a = unit(qs[b]!.flat());
    const t = unit(qt[b]!.flat());
    a.forEach((v, i) => diffs.push((v - t[i]!) ** 2));
  }
  return beta * mean(diffs);
}

describe('at', () => {
  const sShape = [2, 3, 3, 4];
  const fs = rand(2 * 3 * 3 * 4, 11);
  it.each([
    ['same size', [2, 3, 3, 5]],
    ['a larger teacher map (resized)', [2, 7, 7, 6]],
  ])('matches the float64 reference: %s', (_, tShape) => {
    const ft = rand(tShape.reduce((a, b) => a * b, 1), 12).map((v) => v * 2);
    const got = tf.tidy(() => val(atLoss(tf.tensor4d(fs, sShape as [number, number, number, number]), tf.tensor4d(ft, tShape as [number, number, number, number]), { beta: 1000 }).at!));
    const ref = atRef(fs, sShape, ft, tShape, 1000);
    expect(ref).toBeGreaterThan(1);
    expect(Math.abs(got - ref) / ref).toBeLessThan(1e-4);
  });
  it('is 0 when the student\'s energy map is the teacher\'s up to scale, whatever the channels', () => {
    const t = rand(1 * 4 * 4 * 3, 3);
    // A student with 6 channels: each teacher channel twice, times 3 (energy ×9, same map after normalizing).
    const s6: number[] = [];
    for (let p = 0; p < 16; p++) for (let k = 0; k < 3; k++) s6.push(3 * t[p * 3 + k]!, 3 * t[p * 3 + k]!);
    const v = tf.tidy(() => val(atLoss(tf.tensor4d(s6, [1, 4, 4, 6]), tf.tensor4d(t, [1, 4, 4, 3]), { beta: 1000 }).at!));
    expect(v).toBeLessThan(1e-6);
  });
  it('gradient against finite differences of the reference', () => {
    const tShape = [2, 5, 5, 3];
    const ft = rand(2 * 5 * 5 * 3, 13);
    const g = Array.from(
      tf.tidy(() => tf.grad((x: tf.Tensor) => atLoss(x as tf.Tensor4D, tf.tensor4d(ft, tShape as [number, number, number, number]), { beta: 1000 }).at!)(tf.tensor4d(fs, sShape as [number, number, number, number])).dataSync()),
    );
    const ref = fdAt((x) => atRef(x, sShape, ft, tShape, 1000), fs);
    expect(g.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(relErr(g, ref)).toBeLessThan(1e-3);
  });
});

describe('udml peer feature distance', () => {
  const A = rows(rand(4 * 3, 21), 3);
  const B = rows(rand(4 * 3, 22), 3);
  const C = rows(rand(4 * 3, 23), 3);
  const msd = (x: M, y: M) => mean(x.flatMap((r, i) => r.map((v, j) => (v - y[i]![j]!) ** 2)));
  it('matches the reference for three peers; each part is student k pulled toward the others', () => {
    const got = tf.tidy(() => Object.fromEntries(Object.entries(peerFeatureLoss([A, B, C].map((m) => tf.tensor2d(m)), { gamma: 2 })).map(([k, v]) => [k, val(v)])));
    expect(Object.keys(got).sort()).toEqual(['feat_peer_s0', 'feat_peer_s1', 'feat_peer_s2']);
    expect(got.feat_peer_s0).toBeCloseTo((2 * (msd(A, B) + msd(A, C))) / 2, 5);
    expect(got.feat_peer_s1).toBeCloseTo((2 * (msd(B, A) + msd(B, C))) / 2, 5);
  });
  it('gradient: only a student\'s own part moves it (peers are detached), 2γ(f_k − f̄_j)/size', () => {
    const g = tf.tidy(() => {
      const b = tf.tensor2d(B);
      return Array.from(tf.grad((a: tf.Tensor) => {
        const p = peerFeatureLoss([a as tf.Tensor2D, b], { gamma: 1 });
        return tf.add(p.feat_peer_s0!, p.feat_peer_s1!) as tf.Scalar;
      })(tf.tensor2d(A)).dataSync());
    });
    const ref = fdAt((x) => msd(rows(x, 3), B), A.flat());
    expect(relErr(g, ref)).toBeLessThan(1e-4);
  });
  it('refuses peers of different feature sizes', () => {
    expect(() => tf.tidy(() => peerFeatureLoss([tf.zeros([2, 3]), tf.zeros([2, 4])], { gamma: 1 }))).toThrow(/same feature size/);
  });
});
