// methodLoss is the one loss dispatch the trainer uses: for every implemented method, the part names
// and each part and total against float64 values computed here from the formulas (no tfjs).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMPLEMENTED_METHODS, RunConfig, StoredRunConfig, type RunConfigInput } from '../../src/shared/run-config.js';
import { methodLoss, methodUsesTeacher, partStudent, targetClasses, type LossInputs } from '../../src/main/engine/train/method-loss.js';
import { atLoss, ceLoss, distLoss, dkdLoss, dkdWarmFactor, rkdLoss, wslLoss } from '../../src/main/engine/losses/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// ---------- float64 reference ----------
const softmax = (z: number[], t: number): number[] => {
  const m = Math.max(...z.map((v) => v / t));
  const e = z.map((v) => Math.exp(v / t - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const kl = (p: number[], q: number[]): number => p.reduce((s, pi, i) => s + pi * (Math.log(pi) - Math.log(q[i]!)), 0);
const js = (p: number[], q: number[]): number => {
  const m = p.map((v, i) => (v + q[i]!) / 2);
  return 0.5 * kl(p, m) + 0.5 * kl(q, m);
};
const symkl = (p: number[], q: number[]): number => 0.5 * (kl(p, q) + kl(q, p));
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** CE of softmax(z) against one-hot rows, mean over rows with mask 1 (0 when none). */
const maskedCe = (z: number[][], y: number[][], mask: number[]): number => {
  let s = 0;
  let n = 0;
  z.forEach((row, i) => {
    if (!mask[i]) return;
    const p = softmax(row, 1);
    s -= y[i]!.reduce((a, yi, c) => a + yi * Math.log(p[c]!), 0);
    n++;
  });
  return n ? s / n : 0;
};
const rowsMean = (a: number[][], b: number[][], t: number, d: (p: number[], q: number[]) => number): number =>
  mean(a.map((row, i) => d(softmax(row, t), softmax(b[i]!, t))));

// ---------- a batch of 3 examples, 3 classes; the second has no label ----------
const Z0 = [[1.2, -0.3, 0.4], [0.1, 0.9, -1.1], [-0.6, 0.2, 1.5]];
const Z1 = [[0.3, 0.8, -0.2], [1.0, -0.5, 0.2], [0.4, 0.4, -0.9]];
const T = [[2.0, -1.0, 0.1], [-0.4, 1.7, 0.0], [0.2, -0.8, 2.2]];
const Y = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
const MASK = [1, 0, 1];

function inputs(opts: { students: number[][][]; teacher: boolean; temperature: number }): LossInputs {
  return {
    logits: opts.students.map((z) => tf.tensor2d(z)),
    onehot: tf.tensor2d(Y),
    mask: tf.tensor1d(MASK),
    teacher: opts.teacher ? { logits: tf.tensor2d(T) } : null,
    temperature: opts.temperature,
    epochProgress: 1,
  };
}

const student = { arch: 'refnet', inputSize: 32 } as const;
function config(over: Partial<RunConfigInput> & Pick<RunConfigInput, 'method'>): RunConfig {
  return RunConfig.parse({ name: 'r', dataset: 'd', student, epochs: 1, ...over });
}

function evaluate(c: RunConfig, inp: LossInputs): { total: number; parts: Record<string, number> } {
  const r = methodLoss(c, inp);
  return { total: r.total.dataSync()[0]!, parts: Object.fromEntries(Object.entries(r.parts).map(([k, v]) => [k, v.dataSync()[0]!])) };
}

const covered = new Set<string>();

describe('methodLoss', () => {
  it('ce: one part, the masked mean cross-entropy', () => {
    covered.add('ce');
    const got = evaluate(config({ method: 'ce' }), inputs({ students: [Z0], teacher: false, temperature: 1 }));
    const ce = maskedCe(Z0, Y, MASK);
    expect(Object.keys(got.parts)).toEqual(['ce']);
    expect(got.parts.ce).toBeCloseTo(ce, 5);
    expect(got.total).toBeCloseTo(ce, 5);
  });

  it('kd: α·τ²·KL(teacher‖student) on every row + (1−α)·CE on labeled rows', () => {
    covered.add('kd');
    const alpha = 0.7;
    const tau = 2;
    const got = evaluate(config({ method: 'kd', teacher: 't', loss: { alpha } }), inputs({ students: [Z0], teacher: true, temperature: tau }));
    const kd = alpha * tau * tau * rowsMean(T, Z0, tau, kl);
    const ce = (1 - alpha) * maskedCe(Z0, Y, MASK);
    expect(Object.keys(got.parts).sort()).toEqual(['ce', 'kd']);
    expect(got.parts.kd).toBeCloseTo(kd, 5);
    expect(got.parts.ce).toBeCloseTo(ce, 5);
    expect(got.total).toBeCloseTo(kd + ce, 5);
  });

  it('ssld without labels: JS to the teacher only; with labels: plus CE; symkl when asked', () => {
    covered.add('ssld');
    const tau = 1.5;
    const inp = () => inputs({ students: [Z0], teacher: true, temperature: tau });
    const noLabels = evaluate(config({ method: 'ssld', teacher: 't', data: { useLabels: false } }), inp());
    const jsv = rowsMean(T, Z0, tau, js);
    expect(noLabels.parts).toEqual({ js: expect.closeTo(jsv, 5) });
    expect(noLabels.total).toBeCloseTo(jsv, 5);

    const labels = evaluate(config({ method: 'ssld', teacher: 't', data: { useLabels: true } }), inp());
    expect(Object.keys(labels.parts).sort()).toEqual(['ce', 'js']);
    expect(labels.total).toBeCloseTo(jsv + maskedCe(Z0, Y, MASK), 5);

    const sym = evaluate(config({ method: 'ssld', teacher: 't', data: { useLabels: false }, loss: { divergence: 'symkl' } }), inp());
    expect(Object.keys(sym.parts)).toEqual(['symkl']);
    expect(sym.total).toBeCloseTo(rowsMean(T, Z0, tau, symkl), 5);
  });

  it('dml: per student CE + β·divergence to the peer; with a teacher, a teacher part per student', () => {
    covered.add('dml');
    const beta = 0.5;
    const tau = 1;
    const peers = [student];
    const c = config({ method: 'dml', peers, loss: { beta }, data: { useLabels: true } });
    const got = evaluate(c, inputs({ students: [Z0, Z1], teacher: false, temperature: tau }));
    expect(Object.keys(got.parts).sort()).toEqual(['ce_s0', 'ce_s1', 'js_s0', 'js_s1']);
    const want = {
      ce_s0: maskedCe(Z0, Y, MASK),
      ce_s1: maskedCe(Z1, Y, MASK),
      js_s0: beta * rowsMean(Z1, Z0, tau, js),
      js_s1: beta * rowsMean(Z0, Z1, tau, js),
    };
    for (const [k, v] of Object.entries(want)) expect(got.parts[k]).toBeCloseTo(v, 5);
    expect(got.total).toBeCloseTo(Object.values(want).reduce((a, b) => a + b, 0), 5);
    expect(Object.keys(got.parts).map(partStudent).sort()).toEqual([0, 0, 1, 1]);

    const withTeacher = evaluate(c, inputs({ students: [Z0, Z1], teacher: true, temperature: tau }));
    expect(Object.keys(withTeacher.parts).sort()).toEqual(['ce_s0', 'ce_s1', 'js_s0', 'js_s1', 'teacher_js_s0', 'teacher_js_s1']);
    expect(withTeacher.parts.teacher_js_s1).toBeCloseTo(rowsMean(T, Z1, tau, js), 5);

    // Without labels the CE parts are zero, not absent (the chart keeps its series).
    const unlabeled = evaluate(config({ method: 'dml', peers, data: { useLabels: false } }), inputs({ students: [Z0, Z1], teacher: false, temperature: tau }));
    expect(unlabeled.parts.ce_s0).toBe(0);
  });

  // DKD, DIST and WSL are checked against float64 references in losses-zoo.test.ts; here, that the
  // trainer's dispatch feeds them the run config's coefficients, the label-or-teacher target and CE.
  it('dkd, dist and wsl: CE plus the method parts, with the config coefficients', () => {
    for (const m of ['dkd', 'dist', 'wsl'] as const) covered.add(m);
    const tau = 2;
    const inp = () => ({ ...inputs({ students: [Z0], teacher: true, temperature: tau }), epochProgress: 0.5 });
    const same = (got: { total: number; parts: Record<string, number> }, want: Record<string, tf.Scalar>) => {
      const w = Object.fromEntries(Object.entries(want).map(([k, v]) => [k, v.dataSync()[0]!]));
      expect(Object.keys(got.parts).sort()).toEqual(Object.keys(w).sort());
      for (const [k, v] of Object.entries(w)) expect(got.parts[k]).toBeCloseTo(v, 6);
      expect(got.total).toBeCloseTo(Object.values(w).reduce((a, b) => a + b, 0), 5);
    };
    const i1 = inp();
    const teacher = i1.teacher!;
    const target = targetClasses(i1.onehot, i1.mask, teacher);
    const ce = ceLoss(i1.logits[0]!, i1.onehot, i1.mask);
    same(
      evaluate(config({ method: 'dkd', teacher: 't', loss: { alpha: 1, beta: 8, dkdWarmupEpochs: 2 } }), inp()),
      { ...ce, ...dkdLoss(i1.logits[0]!, teacher, target, { temperature: tau, alpha: 1, beta: 8, warm: dkdWarmFactor(0.5, 2) }) },
    );
    same(
      evaluate(config({ method: 'dist', teacher: 't', loss: { beta: 2, gamma: 3 } }), inp()),
      { ...ce, ...distLoss(i1.logits[0]!, teacher, { temperature: tau, beta: 2, gamma: 3 }) },
    );
    same(
      evaluate(config({ method: 'wsl', teacher: 't', loss: { alpha: 2.5 } }), inp()),
      { ...ce, ...wslLoss(i1.logits[0]!, teacher, target, { temperature: tau, alpha: 2.5 }) },
    );
  });

  // RKD, AT and the peer feature distance are checked against float64 references in
  // losses-feature-zoo.test.ts; here, that the dispatch feeds them the right features and coefficients.
  it('fitnets, rkd, at and udml: CE (or DML) plus the feature parts, with the config coefficients', () => {
    for (const m of ['fitnets', 'rkd', 'at', 'udml'] as const) covered.add(m);
    const F = [[0.5, -1.0, 0.3, 0.9], [1.1, 0.2, -0.4, 0.0], [-0.7, 0.6, 0.8, -0.2]];
    const G = [[0.2, 0.1, -0.3, 0.5], [0.9, -0.6, 0.1, 0.4], [0.0, 0.7, -0.5, 0.3]];
    const TF = [[1.0, 0.5, -0.2], [0.3, -0.9, 0.6], [-0.4, 0.2, 1.1]];
    const base = inputs({ students: [Z0], teacher: true, temperature: 1 });
    const ce = maskedCe(Z0, Y, MASK);
    const msd = (a: number[][], b: number[][]) => mean(a.flatMap((r, i) => r.map((v, j) => (v - b[i]![j]!) ** 2)));

    // FitNets: β · mean (adapted − teacher)², the adapter's output given as features.student.
    const fit = evaluate(config({ method: 'fitnets', teacher: 't', loss: { beta: 3 } }), { ...base, features: { student: tf.tensor2d(G.map((r) => r.slice(0, 3))), teacher: tf.tensor2d(TF) } });
    expect(Object.keys(fit.parts).sort()).toEqual(['ce', 'feat']);
    expect(fit.parts.feat).toBeCloseTo(msd(G.map((r) => r.slice(0, 3)), TF), 5);
    expect(fit.total).toBeCloseTo(ce + 3 * fit.parts.feat!, 5);

    // RKD: β on distances, γ on angles, student 0's raw pooled features against the teacher's.
    const pooled = { students: [tf.tensor2d(F)], teacher: tf.tensor2d(TF) };
    const rkd = evaluate(config({ method: 'rkd', teacher: 't', loss: { beta: 25, gamma: 50 } }), { ...base, pooled });
    const ref = tf.tidy(() => Object.fromEntries(Object.entries(rkdLoss(tf.tensor2d(F), tf.tensor2d(TF), { distanceWeight: 25, angleWeight: 50 })).map(([k, v]) => [k, v.dataSync()[0]!])));
    expect(Object.keys(rkd.parts).sort()).toEqual(['ce', 'rkd_angle', 'rkd_dist']);
    expect(rkd.parts.rkd_dist).toBeCloseTo(ref.rkd_dist!, 6);
    expect(rkd.parts.rkd_angle).toBeCloseTo(ref.rkd_angle!, 6);
    expect(rkd.total).toBeCloseTo(ce + ref.rkd_dist! + ref.rkd_angle!, 5);

    // AT: β on the attention term of the two maps.
    const sm = tf.randomNormal([3, 2, 2, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    const tm = tf.randomNormal([3, 4, 4, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
    const at = evaluate(config({ method: 'at', teacher: 't', loss: { beta: 1000 } }), { ...base, maps: { student: sm, teacher: tm } });
    expect(Object.keys(at.parts).sort()).toEqual(['at', 'ce']);
    expect(at.parts.at).toBeCloseTo(atLoss(sm, tm, { beta: 1000 }).at!.dataSync()[0]!, 5);

    // UDML: DML's parts plus γ · the peer feature distance, per student.
    const c = config({ method: 'udml', peers: [student], loss: { beta: 0.5, gamma: 2 }, data: { useLabels: true } });
    const u = evaluate(c, { ...inputs({ students: [Z0, Z1], teacher: false, temperature: 1 }), pooled: { students: [tf.tensor2d(F), tf.tensor2d(G)] } });
    expect(Object.keys(u.parts).sort()).toEqual(['ce_s0', 'ce_s1', 'feat_peer_s0', 'feat_peer_s1', 'js_s0', 'js_s1']);
    expect(u.parts.feat_peer_s0).toBeCloseTo(2 * msd(F, G), 5);
    expect(u.parts.feat_peer_s1).toBeCloseTo(2 * msd(G, F), 5);
    expect(u.parts.js_s0).toBeCloseTo(0.5 * rowsMean(Z1, Z0, 1, js), 5);
  });

  it('weights scale the named parts in the total', () => {
    const c = config({ method: 'kd', teacher: 't', loss: { alpha: 0.5, weights: { kd: 3, ce: 0 } } });
    const got = evaluate(c, inputs({ students: [Z0], teacher: true, temperature: 1 }));
    expect(got.total).toBeCloseTo(3 * got.parts.kd!, 5);
  });

  it('refuses what it cannot compute, by name', () => {
    expect(() => methodLoss(config({ method: 'kd', teacher: 't' }), inputs({ students: [Z0], teacher: false, temperature: 1 }))).toThrow(/method "kd" needs a teacher/);
    // A feature method without the features it reads names what is missing.
    const rkd = StoredRunConfig.parse({ name: 'r', dataset: 'd', student, epochs: 1, method: 'rkd', teacher: 't' }) as RunConfig;
    expect(() => methodLoss(rkd, inputs({ students: [Z0], teacher: true, temperature: 1 }))).toThrow(/no pooled features for this batch/);
    const at = StoredRunConfig.parse({ name: 'r', dataset: 'd', student, epochs: 1, method: 'at', teacher: 't' }) as RunConfig;
    expect(() => methodLoss(at, inputs({ students: [Z0], teacher: true, temperature: 1 }))).toThrow(/no attention maps for this batch/);
    expect(methodUsesTeacher('ce')).toBe(false);
    expect(methodUsesTeacher('ssld')).toBe(true);
    expect(methodUsesTeacher('rkd')).toBe(true);
  });

  it('every implemented method has a case above', () => {
    expect([...IMPLEMENTED_METHODS].filter((m) => !covered.has(m))).toEqual([]);
  });
});
