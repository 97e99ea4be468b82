// Matched-channel hints: the loss against values computed here by plain loops, its gradient, the default
// layers, and the plan that matches a slimmed student's channels to its source's.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunConfig, type StudentSpec } from '../../src/shared/run-config.js';
import { HINT_EPS, hintLoss } from '../../src/main/engine/losses/index.js';
import { loadModelDir } from '../../src/main/engine/model-io.js';
import { createStudent } from '../../src/main/engine/models/index.js';
import { applyTap, tapModel, tapValues, type TapWant } from '../../src/main/engine/models/feature-tap.js';
import { studentSlimPlan } from '../../src/main/engine/models/pretrained-student.js';
import { defaultHintLayers, planHints } from '../../src/main/engine/train/hint-plan.js';
import type { TappableTeacher } from '../../src/main/engine/train/feature-needs.js';
import { TINY_CHANNELS, TINY_SIZE, writeTinyBackbone } from './tiny-backbone.js';

let source: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  source = await writeTinyBackbone(11);
});

const rand = (shape: [number, number, number, number], seed: number): tf.Tensor4D => tf.randomNormal(shape, 0.5, 1, 'float32', seed);

/** Σ(s−t)² / (Σt² + ε) per layer, averaged over layers, by plain loops. */
function expectedHint(s: Float32Array[], t: Float32Array[]): number {
  let total = 0;
  s.forEach((sv, k) => {
    const tv = t[k]!;
    let num = 0;
    let den = 0;
    for (let i = 0; i < sv.length; i++) {
      num += (sv[i]! - tv[i]!) ** 2;
      den += tv[i]! ** 2;
    }
    total += num / (den + HINT_EPS);
  });
  return total / s.length;
}

/** A teacher that is the source model itself, as the run's teacher tap would read it. */
async function sourceTeacher(file: string, name = 'source'): Promise<TappableTeacher & { model: tf.LayersModel }> {
  const model = await loadModelDir(file);
  return {
    name,
    model,
    tapInfo: (want: TapWant) => ({ featureDim: null, hintShapes: tapValues(model, want, `teacher "${name}"`).hints!.map((h) => h.shape.slice(1) as [number, number, number]) }),
  };
}

describe('hint loss', () => {
  it('is the mean over layers of the relative squared error, 0 on a perfect match', async () => {
    const s = [rand([2, 4, 4, 3], 1), rand([2, 2, 2, 5], 2)];
    const t = [rand([2, 4, 4, 3], 3), rand([2, 2, 2, 5], 4)];
    const got = (await hintLoss(s, t).hint!.data())[0]!;
    const want = expectedHint(await Promise.all(s.map((x) => x.data() as Promise<Float32Array>)), await Promise.all(t.map((x) => x.data() as Promise<Float32Array>)));
    expect(got).toBeCloseTo(want, 5);
    expect((await hintLoss(t, t).hint!.data())[0]).toBe(0);
    // A student that outputs zeros scores 1 on every layer.
    expect((await hintLoss(t.map((x) => tf.zerosLike(x)), t).hint!.data())[0]).toBeCloseTo(1, 6);
  });

  it("has the gradient 2(s − t) / (L·(Σt² + ε)) in the student's maps and none in the teacher's", async () => {
    const s = [rand([1, 3, 3, 2], 5), rand([1, 2, 2, 4], 6)];
    const t = [rand([1, 3, 3, 2], 7), rand([1, 2, 2, 4], 8)];
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => hintLoss([a as tf.Tensor4D, b as tf.Tensor4D], [c as tf.Tensor4D, d as tf.Tensor4D]).hint!)([...s, ...t]);
    for (let k = 0; k < 2; k++) {
      const sv = (await s[k]!.data()) as Float32Array;
      const tv = (await t[k]!.data()) as Float32Array;
      const den = tv.reduce((a, v) => a + v * v, 0) + HINT_EPS;
      const got = (await g[k]!.data()) as Float32Array;
      sv.forEach((v, i) => expect(got[i]).toBeCloseTo((2 * (v - tv[i]!)) / (2 * den), 6));
      expect(Array.from(await g[2 + k]!.data()).every((v) => v === 0)).toBe(true);
    }
  });

  it('refuses maps of different shapes, naming the layer', () => {
    expect(() => hintLoss([rand([1, 2, 2, 3], 1)], [rand([1, 2, 2, 4], 2)])).toThrow(/layer 0: student map \[1,2,2,3\] vs teacher \[1,2,2,4\]/);
  });
});

describe('hint plan', () => {
  const slim = (): StudentSpec => ({ slim: source, width: 0.5, inputSize: 32 });

  it('defaults to the last layer of each of the three smallest spatial stages, skipping paddings and the input', async () => {
    const student = await createStudent(slim(), 2, 1);
    // 32 px: conv1 and block 1 at 16 px, block 2 at 8 px (only two stages).
    expect(defaultHintLayers(student)).toEqual(['conv_pw_1_relu', 'conv_pw_2_relu']);
    student.dispose();
  });

  it("matches a slimmed student's channels to its source's: its first map is the source's at those channels", async () => {
    const spec: StudentSpec = { slim: source, width: 0.5, inputSize: TINY_SIZE };
    const student = await createStudent(spec, 2, 1);
    const teacher = await sourceTeacher(source);
    const plan = await planHints(spec, student, teacher, ['conv1_relu', 'conv_pw_2_relu']);
    const slimPlan = (await studentSlimPlan(spec as Extract<StudentSpec, { slim: string }>))!;
    expect(plan.layers).toEqual(['conv1_relu', 'conv_pw_2_relu']);
    expect(plan.channels).toEqual([slimPlan.outChannels.get('conv1_relu'), slimPlan.outChannels.get('conv_pw_2_relu')]);
    expect(plan.channels[0]).toHaveLength(TINY_CHANNELS[0] / 2);
    expect(plan.sizes).toEqual([[TINY_SIZE / 2, TINY_SIZE / 2], [TINY_SIZE / 4, TINY_SIZE / 4]]);
    // conv1 reads only the image: the slimmed student's map is exactly the source's at the kept channels.
    const x = tf.randomUniform([2, TINY_SIZE, TINY_SIZE, 3], 0, 255, 'float32', 4) as tf.Tensor4D;
    const s = applyTap(tapModel(student, { pooled: false, map: false, hints: ['conv1_relu'] }, 'student'), x, false).hints![0]!;
    const cut = tf.model({ inputs: teacher.model.inputs, outputs: teacher.model.getLayer('conv1_relu').output as tf.SymbolicTensor });
    const t = tf.gather(cut.predict(tf.sub(tf.div(x, 127.5), 1)) as tf.Tensor, plan.channels[0]!, 3);
    expect(tf.max(tf.abs(tf.sub(s, t))).dataSync()[0]).toBeLessThan(1e-4);
    student.dispose();
  });

  it('holds every channel for a student cut whole (from)', async () => {
    const spec: StudentSpec = { from: source, inputSize: 32 };
    const student = await createStudent(spec, 2, 1);
    const plan = await planHints(spec, student, await sourceTeacher(source), undefined);
    expect(plan.channels).toEqual([null, null]);
    student.dispose();
  });

  it('refuses a student from scratch, a teacher without layers, a teacher of another width, a missing layer', async () => {
    const scratch: StudentSpec = { arch: 'mobilenet_v2', width: 0.35, inputSize: 32 };
    const s0 = await createStudent(scratch, 2, 1);
    await expect(planHints(scratch, s0, await sourceTeacher(source), undefined)).rejects.toThrow(/built from scratch; hints need a student cut \(from\) or slimmed \(slim\)/);
    s0.dispose();
    const spec = slim();
    const student = await createStudent(spec, 2, 1);
    await expect(planHints(spec, student, { name: 'graph' }, undefined)).rejects.toThrow(/teacher "graph" exposes no layers/);
    const wider: TappableTeacher = { name: 'wide', tapInfo: (want) => ({ featureDim: null, hintShapes: (want.hints ?? []).map(() => [16, 16, 64] as [number, number, number]) }) };
    await expect(planHints(spec, student, wider, undefined)).rejects.toThrow(/layer "conv_pw_1_relu" has 64 channels in teacher "wide" and 16 in the student's source: the teacher is not built on the student's backbone/);
    await expect(planHints(spec, student, await sourceTeacher(source), ['conv_pw_9_relu'])).rejects.toThrow(/has no layer "conv_pw_9_relu"/);
    student.dispose();
  });

  it('is refused in a config without a teacher or with a student from scratch', () => {
    const base = { name: 'h', dataset: 'd', method: 'ssld', teacher: 't', epochs: 1, loss: { hint: { weight: 1 } } };
    expect(RunConfig.safeParse({ ...base, student: { slim: 'm', width: 0.5, inputSize: 32 } }).success).toBe(true);
    const scratch = RunConfig.safeParse({ ...base, student: { arch: 'mobilenet_v2', inputSize: 32 } });
    expect(scratch.success ? '' : scratch.error.issues[0]!.message).toMatch(/hints need a student cut \(from\) or slimmed \(slim\)/);
    const noTeacher = RunConfig.safeParse({ ...base, method: 'ce', teacher: undefined, student: { slim: 'm', width: 0.5, inputSize: 32 } });
    expect(noTeacher.success ? '' : noTeacher.error.issues.map((i) => i.message).join()).toMatch(/hints need a teacher/);
  });
});
