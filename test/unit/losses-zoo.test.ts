// DKD, DIST and WSL against independent plain-JS float64 references (written from the papers'
// formulas, not from the implementation), identities the papers state, and gradients against
// central finite differences of the references.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  distLoss,
  dkdLoss,
  dkdWarmFactor,
  kdLoss,
  totalLoss,
  wslLoss,
  wslWeights,
  type LossParts,
  type TeacherTarget,
} from '../../src/main/engine/losses/index.js';
import { centralDiffRows as fd, relErr } from '../helpers/numeric.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type M = number[][];
const EPS = 1e-7;

function softmax(z: number[], t = 1): number[] {
  const mx = Math.max(...z.map((v) => v / t));
  const e = z.map((v) => Math.exp(v / t - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
function temper(p: number[], t: number): number[] {
  const q = p.map((v) => Math.pow(v, 1 / t));
  const s = q.reduce((a, b) => a + b, 0);
  return q.map((v) => v / s);
}
function kl(p: number[], q: number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) s += p[i]! * (Math.log(p[i]!) - Math.log(Math.max(q[i]!, EPS)));
  return s;
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const argmax = (r: number[]): number => r.indexOf(Math.max(...r));
function teacherRows(t: M, kind: 'probs' | 'logits', tau: number): M {
  return t.map((r) => (kind === 'logits' ? softmax(r, tau) : temper(r, tau)));
}

/** DKD per the paper: binary target/rest split and the softmax over the non-target classes. */
function dkdRef(z: M, t: M, kind: 'probs' | 'logits', y: number[], tau: number, alpha: number, beta: number, warm: number) {
  const pt = teacherRows(t, kind, tau);
  const tck: number[] = [];
  const nck: number[] = [];
  z.forEach((row, i) => {
    const ps = softmax(row, tau);
    const g = y[i]!;
    tck.push(kl([pt[i]![g]!, 1 - pt[i]![g]!], [ps[g]!, 1 - ps[g]!]));
    const restS = ps.filter((_, c) => c !== g);
    const restT = pt[i]!.filter((_, c) => c !== g);
    const sS = restS.reduce((a, b) => a + b, 0);
    const sT = restT.reduce((a, b) => a + b, 0);
    nck.push(sT > 0 ? kl(restT.map((v) => v / sT), restS.map((v) => v / sS)) : 0);
  });
  return { tckd: warm * alpha * tau * tau * mean(tck), nckd: warm * beta * tau * tau * mean(nck) };
}
function pearsonRef(a: number[], b: number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - ma) * (b[i]! - mb);
    na += (a[i]! - ma) ** 2;
    nb += (b[i]! - mb) ** 2;
  }
  return d / Math.max(Math.sqrt(na * nb), 1e-8);
}
function distRef(z: M, t: M, kind: 'probs' | 'logits', tau: number, beta: number, gamma: number) {
  const ps = z.map((r) => softmax(r, tau));
  const pt = teacherRows(t, kind, tau);
  const inter = 1 - mean(ps.map((r, i) => pearsonRef(r, pt[i]!)));
  const cols = ps[0]!.map((_, c) => c);
  const intra = 1 - mean(cols.map((c) => pearsonRef(ps.map((r) => r[c]!), pt.map((r) => r[c]!))));
  return { dist_inter: beta * tau * tau * inter, dist_intra: gamma * tau * tau * intra };
}
function wslWeightsRef(z: M, t: M, kind: 'probs' | 'logits', y: number[]): number[] {
  const pt1 = teacherRows(t, kind, 1);
  return z.map((row, i) => {
    const ceS = -Math.log(softmax(row)[y[i]!]!);
    const ceT = -Math.log(Math.max(pt1[i]![y[i]!]!, EPS));
    return 1 - Math.exp(-Math.max(ceS / (ceT + 1e-7), 0));
  });
}
function wslRef(z: M, t: M, kind: 'probs' | 'logits', y: number[], tau: number, alpha: number, w = wslWeightsRef(z, t, kind, y)): number {
  const pt = teacherRows(t, kind, tau);
  return alpha * tau * tau * mean(z.map((r, i) => w[i]! * kl(pt[i]!, softmax(r, tau))));
}

const Z: M = [
  [1.2, -0.4, 0.3, 2.0],
  [-1.0, 0.5, 0.0, 0.1],
  [0.3, 0.3, -2.2, 1.1],
];
const Y = [3, 0, 1];
const T_LOGITS: M = [
  [0.5, -1.0, 0.2, 3.0],
  [2.0, 0.1, -0.3, 0.0],
  [-0.5, 1.5, -1.0, 0.4],
];
const T_PROBS: M = [
  [0.1, 0, 0.05, 0.84],
  [0.7, 0.15, 0, 0.15],
  [0.05, 0.6, 0.02, 0.33],
];
const onehotRows = (y: number[], c: number): M => y.map((k) => Array.from({ length: c }, (_, j) => (j === k ? 1 : 0)));

const t2 = (m: M) => tf.tensor2d(m);
const val = (s: tf.Tensor) => s.dataSync()[0]!;
const partsVals = (p: LossParts): Record<string, number> => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, val(v)]));
const teacherOf = (kind: 'probs' | 'logits'): TeacherTarget => (kind === 'probs' ? { probs: t2(T_PROBS) } : { logits: t2(T_LOGITS) });
const tOf = (kind: 'probs' | 'logits') => (kind === 'probs' ? T_PROBS : T_LOGITS);

/** tf.grad of f against central differences of the float64 reference and (when given) of f itself in float32. */
function checkGrad(f: (z: tf.Tensor2D) => tf.Scalar, ref: (z: M) => number, z: M, checkTfFd = true): void {
  const g = Array.from(tf.tidy(() => tf.grad((x: tf.Tensor) => f(x as tf.Tensor2D))(t2(z)).dataSync()));
  expect(g.some((v) => Math.abs(v) > 1e-4)).toBe(true);
  expect(relErr(g, fd(ref, z, 1e-5))).toBeLessThan(1e-3);
  if (checkTfFd) expect(relErr(g, fd((m) => tf.tidy(() => val(f(t2(m)))), z, 1e-2))).toBeLessThan(2e-3);
}

describe('dkd', () => {
  it.each([
    ['logits', 4, 1, 8, 1],
    ['probs', 4, 1, 8, 1],
    ['logits', 1, 0.5, 2, 0.25],
    ['probs', 2.5, 2, 0.5, 0.7],
  ] as const)('teacher as %s, τ=%d, α=%d, β=%d, warm=%d matches the reference', (kind, tau, alpha, beta, warm) => {
    const got = partsVals(dkdLoss(t2(Z), teacherOf(kind), t2(onehotRows(Y, 4)), { temperature: tau, alpha, beta, warm }));
    const want = dkdRef(Z, tOf(kind), kind, Y, tau, alpha, beta, warm);
    expect(Object.keys(got).sort()).toEqual(['nckd', 'tckd']);
    expect(got.tckd).toBeCloseTo(want.tckd, 4);
    expect(got.nckd).toBeCloseTo(want.nckd, 4);
    expect(want.nckd).toBeGreaterThan(0);
  });
  it('per example, KD = TCKD + (1 − p_T,target)·NCKD (the paper\'s decomposition, Eq. 7)', () => {
    for (let i = 0; i < Z.length; i++) {
      const z = t2([Z[i]!]);
      const teacher: TeacherTarget = { logits: t2([T_LOGITS[i]!]) };
      const tau = 3;
      const d = partsVals(dkdLoss(z, teacher, t2(onehotRows([Y[i]!], 4)), { temperature: tau, alpha: 1, beta: 1, warm: 1 }));
      const kd = val(kdLoss(z, teacher, t2(onehotRows([Y[i]!], 4)), undefined, { temperature: tau, alpha: 1 }).kd!);
      const ptTarget = softmax(T_LOGITS[i]!, tau)[Y[i]!]!;
      expect(d.tckd! + (1 - ptTarget) * d.nckd!).toBeCloseTo(kd, 4);
    }
  });
  it('two classes: NCKD is 0 (one non-target class)', () => {
    const p = partsVals(dkdLoss(t2([[0.3, -1]]), { logits: t2([[2, 0.1]]) }, t2([[1, 0]]), { temperature: 2, alpha: 1, beta: 8, warm: 1 }));
    expect(Math.abs(p.nckd!)).toBeLessThan(1e-6);
    expect(p.tckd).toBeGreaterThan(0);
  });
  it('teacher that puts all mass on the target (truncated cache row): NCKD 0, finite', () => {
    const p = partsVals(dkdLoss(t2([[0.3, -1, 0.2]]), { probs: t2([[1, 0, 0]]) }, t2([[1, 0, 0]]), { temperature: 2, alpha: 1, beta: 8, warm: 1 }));
    expect(p.nckd).toBe(0);
    expect(Number.isFinite(p.tckd!)).toBe(true);
  });
  it.each(['probs', 'logits'] as const)('gradient (teacher as %s)', (kind) => {
    const y = t2(onehotRows(Y, 4));
    const opts = { temperature: 3, alpha: 1, beta: 4, warm: 0.5 };
    checkGrad(
      (z) => totalLoss(dkdLoss(z, teacherOf(kind), y, opts)),
      (z) => {
        const r = dkdRef(z, tOf(kind), kind, Y, 3, 1, 4, 0.5);
        return r.tckd + r.nckd;
      },
      Z,
    );
  });
  it('warm-up ramps linearly to 1 over the configured epochs', () => {
    expect(dkdWarmFactor(0.5, 0)).toBe(1);
    expect(dkdWarmFactor(0.5, 2)).toBeCloseTo(0.25, 12);
    expect(dkdWarmFactor(1.5, 2)).toBeCloseTo(0.75, 12);
    expect(dkdWarmFactor(7, 2)).toBe(1);
  });
  it('rejects bad options and shapes', () => {
    const y = t2(onehotRows(Y, 4));
    expect(() => dkdLoss(t2(Z), teacherOf('logits'), y, { temperature: 1, alpha: -1, beta: 1, warm: 1 })).toThrow(/alpha/);
    expect(() => dkdLoss(t2(Z), teacherOf('logits'), y, { temperature: 1, alpha: 1, beta: 1, warm: 2 })).toThrow(/warm/);
    expect(() => dkdLoss(t2(Z), teacherOf('logits'), t2([[1, 0]]), { temperature: 1, alpha: 1, beta: 1, warm: 1 })).toThrow(/shape/);
  });
});

describe('dist', () => {
  it.each([
    ['logits', 1, 1, 1],
    ['probs', 1, 2, 0.5],
    ['logits', 4, 1, 2],
  ] as const)('teacher as %s, τ=%d, β=%d, γ=%d matches the reference', (kind, tau, beta, gamma) => {
    const got = partsVals(distLoss(t2(Z), teacherOf(kind), { temperature: tau, beta, gamma }));
    const want = distRef(Z, tOf(kind), kind, tau, beta, gamma);
    expect(Object.keys(got).sort()).toEqual(['dist_inter', 'dist_intra']);
    expect(got.dist_inter).toBeCloseTo(want.dist_inter, 4);
    expect(got.dist_intra).toBeCloseTo(want.dist_intra, 4);
  });
  it('is 0 when the student is an affine copy of the teacher\'s probabilities (relations only)', () => {
    // Student = teacher logits: identical probabilities ⇒ both correlations are 1.
    const same = partsVals(distLoss(t2(T_LOGITS), { logits: t2(T_LOGITS) }, { temperature: 2, beta: 1, gamma: 1 }));
    expect(Math.abs(same.dist_inter!)).toBeLessThan(1e-5);
    expect(Math.abs(same.dist_intra!)).toBeLessThan(1e-5);
  });
  it('two classes: the inter-class part is 0 or 2τ² (a correlation of ±1), the intra part is not', () => {
    const got = partsVals(distLoss(t2([[0.1, 0.5], [1, -1], [0, 0.3]]), { logits: t2([[1, 0], [0.2, 0.1], [-1, 1]]) }, { temperature: 1, beta: 1, gamma: 1 }));
    const inter = distRef([[0.1, 0.5], [1, -1], [0, 0.3]], [[1, 0], [0.2, 0.1], [-1, 1]], 'logits', 1, 1, 1);
    expect(got.dist_inter).toBeCloseTo(inter.dist_inter, 5);
    expect(got.dist_intra).toBeCloseTo(inter.dist_intra, 5);
  });
  it.each(['probs', 'logits'] as const)('gradient (teacher as %s)', (kind) => {
    checkGrad(
      (z) => totalLoss(distLoss(z, teacherOf(kind), { temperature: 2, beta: 1, gamma: 2 })),
      (z) => {
        const r = distRef(z, tOf(kind), kind, 2, 1, 2);
        return r.dist_inter + r.dist_intra;
      },
      Z,
    );
  });
});

describe('wsl', () => {
  it.each([
    ['logits', 2, 2.25],
    ['probs', 2, 1],
    ['logits', 1, 0.5],
  ] as const)('teacher as %s, τ=%d, α=%d matches the reference', (kind, tau, alpha) => {
    const got = partsVals(wslLoss(t2(Z), teacherOf(kind), t2(onehotRows(Y, 4)), { temperature: tau, alpha }));
    expect(Object.keys(got)).toEqual(['wsl']);
    expect(got.wsl).toBeCloseTo(wslRef(Z, tOf(kind), kind, Y, tau, alpha), 4);
  });
  it('weights: 1 − exp(−CE_S/CE_T), in [0, 1); small where the teacher is wrong and the student right', () => {
    const w = Array.from(wslWeights(t2(Z), teacherOf('logits'), t2(onehotRows(Y, 4))).dataSync());
    const want = wslWeightsRef(Z, T_LOGITS, 'logits', Y);
    w.forEach((v, i) => {
      expect(v).toBeCloseTo(want[i]!, 5);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    });
    // Row 1: teacher right (confident), student wrong ⇒ weight near 1; swap who is right ⇒ near 0.
    const strong = val(wslWeights(t2([[-3, 3]]), { logits: t2([[4, -4]]) }, t2([[1, 0]])));
    const weak = val(wslWeights(t2([[4, -4]]), { logits: t2([[-3, 3]]) }, t2([[1, 0]])));
    expect(strong).toBeGreaterThan(0.99);
    expect(weak).toBeLessThan(0.01);
  });
  it.each(['probs', 'logits'] as const)('gradient: the weights are constants (teacher as %s)', (kind) => {
    const w0 = wslWeightsRef(Z, tOf(kind), kind, Y);
    checkGrad(
      (z) => wslLoss(z, teacherOf(kind), t2(onehotRows(Y, 4)), { temperature: 2, alpha: 1.5 }).wsl!,
      (z) => wslRef(z, tOf(kind), kind, Y, 2, 1.5, w0),
      Z,
      false, // finite differences of the tf function would move the weights too
    );
  });
});
