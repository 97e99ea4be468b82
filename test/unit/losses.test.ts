// Losses against an independent plain-JS (float64, double loops) reference, closed-form values,
// gradients by central finite differences, and the divergences' properties.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ceLoss,
  crossEntropy,
  dmlLoss,
  jsDivergence,
  jsDivergenceRows,
  jsLoss,
  kdLoss,
  klDivergence,
  stopGradient,
  symklLoss,
  temperProbs,
  totalLoss,
  type LossParts,
  type TeacherTarget,
} from '../../src/main/engine/losses/index.js';
import { relErr } from '../helpers/numeric.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// ---------- reference, plain numbers ----------
type M = number[][];
const EPS = 1e-7;
const LN2 = Math.log(2);

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
/** KL(p‖q) with 0·log 0 = 0 and the target's log clipped at EPS (as the implementation clips given probs). */
function kl(p: number[], q: number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) s += p[i]! * (Math.log(p[i]!) - Math.log(Math.max(q[i]!, EPS)));
  return s;
}
function js(p: number[], q: number[]): number {
  const m = p.map((v, i) => (v + q[i]!) / 2);
  return 0.5 * kl(p, m) + 0.5 * kl(q, m);
}
function symkl(p: number[], q: number[]): number {
  return 0.5 * (kl(p, q) + kl(q, p));
}
function ce(z: M, y: M, mask?: number[]): number {
  let s = 0;
  let n = 0;
  for (let r = 0; r < z.length; r++) {
    const w = mask ? mask[r]! : 1;
    if (w === 0) continue;
    const p = softmax(z[r]!);
    let row = 0;
    for (let c = 0; c < p.length; c++) row -= y[r]![c]! * Math.log(p[c]!);
    s += w * row;
    n += w;
  }
  return n === 0 ? 0 : s / n;
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
function teacherRows(t: M, kind: 'probs' | 'logits', tau: number): M {
  return t.map((r) => (kind === 'logits' ? softmax(r, tau) : temper(r, tau)));
}
function kdRef(z: M, t: M, kind: 'probs' | 'logits', y: M, mask: number[] | undefined, tau: number, alpha: number) {
  const pt = teacherRows(t, kind, tau);
  const k = mean(z.map((r, i) => kl(pt[i]!, softmax(r, tau))));
  return { kd: alpha * tau * tau * k, ce: (1 - alpha) * ce(z, y, mask) };
}
function jsRef(z: M, t: M, kind: 'probs' | 'logits', tau: number): number {
  const pt = teacherRows(t, kind, tau);
  return mean(z.map((r, i) => js(pt[i]!, softmax(r, tau))));
}
function symklRef(z: M, t: M, kind: 'probs' | 'logits', tau: number): number {
  const pt = teacherRows(t, kind, tau);
  return mean(z.map((r, i) => symkl(pt[i]!, softmax(r, tau))));
}
/** Student k's own DML loss with the peers' predictions as constants. */
function dmlStudentRef(zs: M[], k: number, y: M | undefined, mask: number[] | undefined, tau: number, beta: number, div: 'js' | 'symkl'): number {
  const d = div === 'js' ? js : symkl;
  const own = zs[k]!.map((r) => softmax(r, tau));
  let peers = 0;
  zs.forEach((zj, j) => {
    if (j === k) return;
    peers += mean(zj.map((r, i) => d(softmax(r, tau), own[i]!)));
  });
  return (y ? ce(zs[k]!, y, mask) : 0) + (beta * peers) / (zs.length - 1);
}

// ---------- fixtures ----------
const Z: M = [
  [1.2, -0.4, 0.3, 2.0],
  [-1.0, 0.5, 0.0, 0.1],
  [0.3, 0.3, -2.2, 1.1],
];
const Y: M = [
  [0, 0, 0, 1],
  [1, 0, 0, 0],
  [0, 1, 0, 0],
];
const T_LOGITS: M = [
  [0.5, -1.0, 0.2, 3.0],
  [2.0, 0.1, -0.3, 0.0],
  [-0.5, 1.5, -1.0, 0.4],
];
// Stored-cache style teacher: top-3 probabilities, one class truncated to 0, rows not exactly summing to 1.
const T_PROBS: M = [
  [0.1, 0, 0.05, 0.84],
  [0.7, 0.15, 0, 0.15],
  [0.05, 0.6, 0.02, 0.33],
];
const Z2: M = [
  [0.2, 0.9, -0.3, 0.0],
  [1.5, -0.5, 0.4, -1.0],
  [0.0, 0.7, 0.1, -0.6],
];
const Z3: M = [
  [-0.3, 0.1, 0.8, 0.2],
  [0.0, 0.0, 1.0, -2.0],
  [1.0, -1.0, 0.5, 0.5],
];
const MASK = [1, 0, 1];

const t2 = (m: M) => tf.tensor2d(m);
const t1 = (v: number[]) => tf.tensor1d(v);
const val = (s: tf.Tensor) => s.dataSync()[0]!;
function partsVals(p: LossParts): Record<string, number> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, val(v)]));
}
function teacherOf(kind: 'probs' | 'logits'): TeacherTarget {
  return kind === 'probs' ? { probs: t2(T_PROBS) } : { logits: t2(T_LOGITS) };
}

/** Central differences of f (float32 tf evaluation) around z. */
function fdTf(f: (z: tf.Tensor2D) => tf.Scalar, z: M, h = 1e-2): number[] {
  const out: number[] = [];
  z.forEach((row, r) =>
    row.forEach((_, c) => {
      const plus = z.map((rr) => rr.slice());
      const minus = z.map((rr) => rr.slice());
      plus[r]![c]! += h;
      minus[r]![c]! -= h;
      const fp = tf.tidy(() => val(f(t2(plus))));
      const fm = tf.tidy(() => val(f(t2(minus))));
      out.push((fp - fm) / (2 * h));
    }),
  );
  return out;
}
/** Central differences of a float64 reference. */
function fdRef(f: (z: M) => number, z: M, h = 1e-5): number[] {
  const out: number[] = [];
  z.forEach((row, r) =>
    row.forEach((_, c) => {
      const plus = z.map((rr) => rr.slice());
      const minus = z.map((rr) => rr.slice());
      plus[r]![c]! += h;
      minus[r]![c]! -= h;
      out.push((f(plus) - f(minus)) / (2 * h));
    }),
  );
  return out;
}
/** tf.grad of f vs central differences of `fd` (default f) in float32 and of the float64 reference. */
function checkGrad(f: (z: tf.Tensor2D) => tf.Scalar, ref: (z: M) => number, z: M, fd = f): void {
  const g = tf.tidy(() => tf.grad((x: tf.Tensor) => f(x as tf.Tensor2D))(t2(z)).dataSync());
  const n = Array.from(g);
  expect(n.some((v) => Math.abs(v) > 1e-4)).toBe(true);
  expect(relErr(n, fdTf(fd, z))).toBeLessThan(1e-3);
  expect(relErr(n, fdRef(ref, z))).toBeLessThan(1e-3);
}

// ---------- values ----------
describe('ce', () => {
  it('closed forms', () => {
    expect(val(crossEntropy(t2([[0, 0]]), t2([[1, 0]])))).toBeCloseTo(LN2, 6);
    // logits [ln 3, 0]: p = [3/4, 1/4]; label 1 ⇒ ln 4
    expect(val(crossEntropy(t2([[Math.log(3), 0]]), t2([[0, 1]])))).toBeCloseTo(Math.log(4), 6);
  });
  it('matches the reference, with and without mask', () => {
    expect(val(crossEntropy(t2(Z), t2(Y)))).toBeCloseTo(ce(Z, Y), 5);
    expect(val(crossEntropy(t2(Z), t2(Y), t1(MASK)))).toBeCloseTo(ce(Z, Y, MASK), 5);
    // masked = plain CE over the labeled rows only
    expect(ce(Z, Y, MASK)).toBeCloseTo(ce([Z[0]!, Z[2]!], [Y[0]!, Y[2]!]), 12);
  });
  it('is 0 with zero gradient when no example is labeled', () => {
    const mask = t1([0, 0, 0]);
    expect(val(crossEntropy(t2(Z), t2(Y), mask))).toBe(0);
    const g = tf.grad((x: tf.Tensor) => crossEntropy(x as tf.Tensor2D, t2(Y), mask))(t2(Z)).dataSync();
    expect(Array.from(g).every((v) => v === 0)).toBe(true);
  });
  it('is stable for huge logits', () => {
    expect(val(crossEntropy(t2([[1000, -1000]]), t2([[0, 1]])))).toBeCloseTo(2000, 1);
    expect(Number.isFinite(val(crossEntropy(t2([[1e4, 0]]), t2([[1, 0]]))))).toBe(true);
  });
  it('rejects mismatched shapes', () => {
    expect(() => crossEntropy(t2(Z), t2([[1, 0]]))).toThrow(/does not match/);
  });
  it('gradient', () => {
    checkGrad((z) => crossEntropy(z, t2(Y), t1(MASK)), (z) => ce(z, Y, MASK), Z);
  });
});

describe('kd', () => {
  it.each([
    ['probs', 4, 0.9],
    ['logits', 4, 0.9],
    ['logits', 1, 0.5],
    ['probs', 2.5, 0.3],
  ] as const)('teacher as %s, τ=%d, α=%d matches the reference', (kind, tau, alpha) => {
    const got = partsVals(kdLoss(t2(Z), teacherOf(kind), t2(Y), t1(MASK), { temperature: tau, alpha }));
    const want = kdRef(Z, kind === 'probs' ? T_PROBS : T_LOGITS, kind, Y, MASK, tau, alpha);
    expect(Object.keys(got).sort()).toEqual(['ce', 'kd']);
    expect(got.kd).toBeCloseTo(want.kd, 4);
    expect(got.ce).toBeCloseTo(want.ce, 5);
  });
  it('closed form: τ=1, α=1, teacher [1/2,1/2], student p=[1/4,3/4] ⇒ KL = ½ln(4/3)', () => {
    const p = kdLoss(t2([[0, Math.log(3)]]), { probs: t2([[0.5, 0.5]]) }, t2([[1, 0]]), undefined, { temperature: 1, alpha: 1 });
    expect(val(p.kd!)).toBeCloseTo(0.5 * Math.log(4 / 3), 6);
    expect(val(p.ce!)).toBe(0);
  });
  it('α = 0 equals CE', () => {
    const p = kdLoss(t2(Z), teacherOf('logits'), t2(Y), t1(MASK), { temperature: 3, alpha: 0 });
    expect(val(p.kd!)).toBe(0);
    expect(val(totalLoss(p))).toBeCloseTo(val(crossEntropy(t2(Z), t2(Y), t1(MASK))), 6);
  });
  it('teacher probs = softmax(teacher logits) gives the same loss at any τ', () => {
    const probs = tf.softmax(t2(T_LOGITS)) as tf.Tensor2D;
    const a = val(totalLoss(kdLoss(t2(Z), { probs }, t2(Y), undefined, { temperature: 3, alpha: 0.7 })));
    const b = val(totalLoss(kdLoss(t2(Z), { logits: t2(T_LOGITS) }, t2(Y), undefined, { temperature: 3, alpha: 0.7 })));
    expect(a).toBeCloseTo(b, 5);
  });
  it.each(['probs', 'logits'] as const)('gradient (teacher as %s)', (kind) => {
    const t = kind === 'probs' ? T_PROBS : T_LOGITS;
    checkGrad(
      (z) => totalLoss(kdLoss(z, teacherOf(kind), t2(Y), t1(MASK), { temperature: 3, alpha: 0.8 })),
      (z) => {
        const r = kdRef(z, t, kind, Y, MASK, 3, 0.8);
        return r.kd + r.ce;
      },
      Z,
    );
  });
  it('rejects α outside [0,1] and τ ≤ 0', () => {
    expect(() => kdLoss(t2(Z), teacherOf('logits'), t2(Y), undefined, { temperature: 1, alpha: 1.5 })).toThrow(/alpha/);
    expect(() => kdLoss(t2(Z), teacherOf('logits'), t2(Y), undefined, { temperature: 0, alpha: 0.5 })).toThrow(/temperature/);
  });
});

describe('js (SSLD)', () => {
  it.each([
    ['probs', 1],
    ['probs', 2],
    ['logits', 1],
    ['logits', 0.5],
  ] as const)('teacher as %s, τ=%d matches the reference', (kind, tau) => {
    const got = partsVals(jsLoss(t2(Z), teacherOf(kind), tau));
    expect(Object.keys(got)).toEqual(['js']);
    expect(got.js).toBeCloseTo(jsRef(Z, kind === 'probs' ? T_PROBS : T_LOGITS, kind, tau), 5);
  });
  it('closed forms', () => {
    // disjoint one-hots: ln 2
    expect(val(jsDivergence(t2([[1, 0]]), t2([[0, 1]])))).toBeCloseTo(LN2, 6);
    // p=[1,0], q=[1/2,1/2]: m=[3/4,1/4]; ½ln(4/3) + ½(½ln(2/3) + ½ln 2)
    const want = 0.5 * Math.log(4 / 3) + 0.5 * (0.5 * Math.log(2 / 3) + 0.5 * Math.log(2));
    expect(val(jsDivergence(t2([[1, 0]]), t2([[0.5, 0.5]])))).toBeCloseTo(want, 6);
  });
  it.each(['probs', 'logits'] as const)('gradient (teacher as %s)', (kind) => {
    const t = kind === 'probs' ? T_PROBS : T_LOGITS;
    checkGrad((z) => jsLoss(z, teacherOf(kind), 2).js!, (z) => jsRef(z, t, kind, 2), Z);
  });
});

describe('symkl (PaddleClas DMLLoss "JS")', () => {
  it.each([
    ['probs', 1],
    ['logits', 3],
  ] as const)('teacher as %s, τ=%d matches the reference', (kind, tau) => {
    const got = partsVals(symklLoss(t2(Z), teacherOf(kind), tau));
    expect(Object.keys(got)).toEqual(['symkl']);
    expect(got.symkl).toBeCloseTo(symklRef(Z, kind === 'probs' ? T_PROBS : T_LOGITS, kind, tau), 4);
  });
  it('closed form: ½(KL(p‖q)+KL(q‖p)) = ½Σ(p−q)ln(p/q)', () => {
    // p=[1/2,1/2], q=[1/4,3/4]: ½(¼ln2 − ¼ln(2/3)) = ⅛ln3
    const p = symklLoss(t2([[0, Math.log(3)]]), { probs: t2([[0.5, 0.5]]) }, 1);
    expect(val(p.symkl!)).toBeCloseTo(Math.log(3) / 8, 6);
  });
  it.each(['probs', 'logits'] as const)('gradient (teacher as %s)', (kind) => {
    const t = kind === 'probs' ? T_PROBS : T_LOGITS;
    checkGrad((z) => symklLoss(z, teacherOf(kind), 2).symkl!, (z) => symklRef(z, t, kind, 2), Z);
  });
});

describe('dml', () => {
  it.each([
    ['js', 1, 1],
    ['symkl', 2, 0.5],
  ] as const)('%s, τ=%d, β=%d: each student = CE where labeled + β·mean divergence to peers', (div, tau, beta) => {
    const zs = [Z, Z2, Z3];
    const got = partsVals(dmlLoss(zs.map(t2), t2(Y), t1(MASK), { temperature: tau, beta, divergence: div }));
    expect(Object.keys(got).sort()).toEqual([`${div}_s0`, `${div}_s1`, `${div}_s2`, 'ce_s0', 'ce_s1', 'ce_s2'].sort());
    for (let k = 0; k < 3; k++) {
      expect(got[`ce_s${k}`]).toBeCloseTo(ce(zs[k]!, Y, MASK), 5);
      expect(got[`ce_s${k}`]! + got[`${div}_s${k}`]!).toBeCloseTo(dmlStudentRef(zs, k, Y, MASK, tau, beta, div), 5);
    }
  });
  it('without labels the CE parts are 0', () => {
    const got = partsVals(dmlLoss([t2(Z), t2(Z2)], undefined, undefined, { temperature: 1, beta: 1, divergence: 'js' }));
    expect(got.ce_s0).toBe(0);
    expect(got.js_s0).toBeCloseTo(dmlStudentRef([Z, Z2], 0, undefined, undefined, 1, 1, 'js'), 5);
    // two students, symmetric divergence: both see the same value
    expect(got.js_s0).toBeCloseTo(got.js_s1!, 6);
  });
  it.each(['js', 'symkl'] as const)('gradient w.r.t. one student is its own loss with peers detached (%s)', (div) => {
    const parts = (z: tf.Tensor2D) => dmlLoss([z, t2(Z2), t2(Z3)], t2(Y), t1(MASK), { temperature: 2, beta: 0.7, divergence: div });
    const joint = (z: tf.Tensor2D) => totalLoss(parts(z));
    // finite differences can't detach: difference student 0's own parts only
    const ownTf = (z: tf.Tensor2D) => {
      const p = parts(z);
      return tf.add(p.ce_s0!, p[`${div}_s0`]!) as tf.Scalar;
    };
    const own = (z: M) => dmlStudentRef([z, Z2, Z3], 0, Y, MASK, 2, 0.7, div);
    checkGrad(joint, own, Z, ownTf);
    // ...and not the gradient of the joint objective without detaching: with a symmetric divergence
    // and no labels that one would be twice as large.
    const noLabels = (z: tf.Tensor2D) =>
      totalLoss(dmlLoss([z, t2(Z2), t2(Z3)], undefined, undefined, { temperature: 2, beta: 0.7, divergence: div }));
    const g = tf.grad((x: tf.Tensor) => noLabels(x as tf.Tensor2D))(t2(Z)).dataSync();
    const ownNoLabels = fdRef((z) => dmlStudentRef([z, Z2, Z3], 0, undefined, undefined, 2, 0.7, div), Z);
    const undetached = fdRef((z) => [0, 1, 2].reduce((s, k) => s + dmlStudentRef([z, Z2, Z3], k, undefined, undefined, 2, 0.7, div), 0), Z);
    expect(relErr(Array.from(g), ownNoLabels)).toBeLessThan(1e-3);
    undetached.forEach((v, i) => expect(v).toBeCloseTo(2 * ownNoLabels[i]!, 6));
  });
  it('rejects a single student', () => {
    expect(() => dmlLoss([t2(Z)], t2(Y), undefined, { temperature: 1, beta: 1, divergence: 'js' })).toThrow(/at least 2/);
  });
});

// ---------- properties ----------
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
function randomDists(rows: number, cols: number, seed: number, sharp = 1): M {
  const r = lcg(seed);
  return Array.from({ length: rows }, () => softmax(Array.from({ length: cols }, () => (r() - 0.5) * 8 * sharp)));
}

describe('divergence properties', () => {
  const P = randomDists(64, 5, 1);
  const Q = randomDists(64, 5, 2, 3);
  it('JS ≥ 0, ≤ ln 2, symmetric; matches the reference per row', () => {
    const pq = Array.from(jsDivergenceRows(t2(P), t2(Q)).dataSync());
    const qp = Array.from(jsDivergenceRows(t2(Q), t2(P)).dataSync());
    pq.forEach((v, i) => {
      expect(v).toBeGreaterThanOrEqual(-1e-7);
      expect(v).toBeLessThanOrEqual(LN2 + 1e-6);
      expect(v).toBeCloseTo(qp[i]!, 6);
      expect(v).toBeCloseTo(js(P[i]!, Q[i]!), 5);
    });
  });
  it('JS = 0 when the distributions are equal; the SSLD loss too when student = teacher', () => {
    expect(Math.abs(val(jsDivergence(t2(P), t2(P))))).toBeLessThan(1e-6);
    expect(Math.abs(val(jsLoss(t2(T_LOGITS), { logits: t2(T_LOGITS) }, 2).js!))).toBeLessThan(1e-6);
    expect(Math.abs(val(symklLoss(t2(T_LOGITS), { logits: t2(T_LOGITS) }, 2).symkl!))).toBeLessThan(1e-6);
  });
  it('KL ≥ 0, = 0 on equal inputs, asymmetric, matches the reference', () => {
    const a = val(klDivergence(t2(P), t2(Q)));
    const b = val(klDivergence(t2(Q), t2(P)));
    expect(a).toBeGreaterThan(0);
    expect(Math.abs(a - b)).toBeGreaterThan(1e-3);
    expect(a).toBeCloseTo(mean(P.map((p, i) => kl(p, Q[i]!))), 4);
    expect(Math.abs(val(klDivergence(t2(P), t2(P))))).toBeLessThan(1e-6);
  });
  it('temperProbs: p^(1/τ) renormalized; zeros stay zero; τ=1 renormalizes', () => {
    const got = temperProbs(t2(T_PROBS), 2).arraySync();
    got.forEach((row, i) => row.forEach((v, c) => expect(v).toBeCloseTo(temper(T_PROBS[i]!, 2)[c]!, 6)));
    expect(got[0]![1]).toBe(0);
    const one = temperProbs(t2([[0.2, 0.2, 0]]), 1).arraySync()[0]!;
    expect(one[0]).toBeCloseTo(0.5, 6);
  });
  it('stopGradient passes values and blocks gradients', () => {
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, stopGradient(x))))(t1([1, 2, 3])).dataSync();
    expect(Array.from(g)).toEqual([1, 2, 3]);
  });
});

describe('totalLoss', () => {
  it('totalLoss sums the parts with optional weights', () => {
    const parts = { a: tf.scalar(1.5), b: tf.scalar(-0.5), c: tf.scalar(2) };
    expect(val(totalLoss(parts))).toBeCloseTo(3, 6);
    expect(val(totalLoss(parts, { a: 2, c: 0 }))).toBeCloseTo(2.5, 6);
    expect(val(totalLoss({}))).toBe(0);
  });
  it('leaks no tensors inside tf.tidy', () => {
    const z = t2(Z);
    const y = t2(Y);
    const tp = t2(T_PROBS);
    const before = tf.memory().numTensors;
    const out = tf.tidy(() =>
      totalLoss({
        ...kdLoss(z, { probs: tp }, y, undefined, { temperature: 2, alpha: 0.5 }),
        ...dmlLoss([z, y], y, undefined, { temperature: 2, beta: 1, divergence: 'js' }),
      }),
    );
    expect(tf.memory().numTensors).toBe(before + 1);
    out.dispose();
    const m = klDivergence(tp, tp);
    expect(tf.memory().numTensors).toBe(before + 1);
    m.dispose();
  });
});
