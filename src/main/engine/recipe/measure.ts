// Measures what the recipe's rule needs: each candidate student's parameters and training img/s (a
// warm-up step, then timed steps on random pixels at its input size, the run's optimizer and a soft
// target), and the teacher's inference img/s. Seconds per candidate, so the rule uses this machine's
// speed under its current load rather than a stored table.
import * as tf from '@tensorflow/tfjs';
import type { StudentSpec } from '../../../shared/run-config.js';
import { countTrainableParams, createStudent } from '../models/index.js';
import { fastAdam } from '../wasm-kernels/fast-adam.js';
import type { Predictor } from '../predict.js';
import type { Teacher } from '../train/train-types.js';
import type { RecipeCandidate } from './choose.js';
import { resolveBackboneFile } from '../models/backbones.js';
import { nativeInputSize, readTopology } from '../models/pretrained-topology.js';

export interface CandidateSpec {
  student: StudentSpec;
  pretrained: boolean;
}

/** The sizes MobileNets are published at: a pretrained student keeps its filters' scale up to its own size. */
export const PRETRAINED_SIZES = [128, 160, 192, 224] as const;
/** Scratch students: small inputs, where a few epochs go furthest. */
export const SCRATCH_SIZES = [96, 128] as const;
/** A backbone whose input size is not fixed in its file is taken as an ImageNet one. */
const DEFAULT_NATIVE_SIZE = 224;

/** Slimmed backbones at a few widths and sizes (up to the backbone's own) when a backbone is at hand; else mobilenet_v2 from scratch. */
export function candidateSpecs(backbone: string | null): CandidateSpec[] {
  if (backbone) {
    const native = nativeInputSize(readTopology(resolveBackboneFile(backbone))) ?? DEFAULT_NATIVE_SIZE;
    const fit = PRETRAINED_SIZES.filter((s) => s <= native);
    const sizes = fit.length ? fit : [native];
    return [0.25, 0.35, 0.5].flatMap((width) => sizes.map((inputSize) => ({ student: { slim: backbone, width, inputSize }, pretrained: true })));
  }
  return [0.35, 0.5, 1.0].flatMap((width) => SCRATCH_SIZES.map((inputSize) => ({ student: { arch: 'mobilenet_v2' as const, width, inputSize }, pretrained: false })));
}

/** Seconds for `steps` calls of `step` after one untimed call (kernels compile on the first). */
async function timeSteps(step: () => void | Promise<void>, steps: number): Promise<number> {
  await step();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  return (performance.now() - t0) / 1000;
}

/** A candidate over `maxParams` is counted but not timed (img/s 0): it cannot be chosen anyway. */
export async function measureCandidate(c: CandidateSpec, classes: number, o: { batch: number; steps: number; maxParams?: number }): Promise<RecipeCandidate> {
  const model = await createStudent(c.student, classes, 1);
  const params = countTrainableParams(model);
  if (o.maxParams !== undefined && params > o.maxParams) {
    model.dispose();
    return { student: c.student, pretrained: c.pretrained, params, trainImgPerSec: 0 };
  }
  const optimizer = fastAdam(1e-3);
  const s = c.student.inputSize;
  const x = tf.randomUniform([o.batch, s, s, 3], 0, 255, 'float32', 1);
  const target = tf.tidy(() => tf.softmax(tf.randomNormal([o.batch, classes], 0, 1, 'float32', 2)));
  try {
    const seconds = await timeSteps(() => {
      const loss = optimizer.minimize(
        () => tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(model.apply(x, { training: true }) as tf.Tensor)), 1))) as tf.Scalar,
        true,
      );
      loss?.dataSync();
      loss?.dispose();
    }, o.steps);
    return { student: c.student, pretrained: c.pretrained, params, trainImgPerSec: (o.batch * o.steps) / seconds };
  } finally {
    tf.dispose([x, target]);
    optimizer.dispose();
    model.dispose();
  }
}

/** The predictor's inference img/s on random pixels at its input size (0 for a teacher outside tfjs: not timed here). */
async function measureInference(p: Predictor, o: { batch: number; steps: number }): Promise<number> {
  if (!('logits' in p)) return 0;
  const x = tf.randomUniform([o.batch, p.inputSize, p.inputSize, 3], 0, 255, 'float32', 3);
  try {
    const seconds = await timeSteps(() => {
      const y = p.logits(x as tf.Tensor4D);
      y.dataSync();
      y.dispose();
    }, o.steps);
    return (o.batch * o.steps) / seconds;
  } finally {
    x.dispose();
  }
}

/**
 * The teacher's img/s in the teacher cache's pass: with its pooled features when the run caches them
 * (the tapped forward, a model with two outputs), else its logits. A warm-up batch, then `steps` timed
 * ones on random pixels.
 */
export async function measureTeacherPass(t: Teacher, o: { batch: number; steps: number; features: boolean }): Promise<number> {
  const want = { pooled: true, map: false } as const;
  if (o.features && t.hostTapped) {
    const hostTapped = t.hostTapped;
    const pixels = new Float32Array(o.batch * t.inputSize * t.inputSize * 3).map((_, i) => (i * 37) % 256);
    const seconds = await timeSteps(async () => {
      await hostTapped(pixels, o.batch, want);
    }, o.steps);
    return (o.batch * o.steps) / seconds;
  }
  if (!o.features || !t.tapped) return measureInference(t, o);
  const x = tf.randomUniform([o.batch, t.inputSize, t.inputSize, 3], 0, 255, 'float32', 3) as tf.Tensor4D;
  try {
    const seconds = await timeSteps(() => {
      const r = t.tapped!(x, want);
      r.logits.dataSync();
      tf.dispose([r.logits, ...(r.features ? [r.features] : []), ...(r.map ? [r.map] : [])]);
    }, o.steps);
    return (o.batch * o.steps) / seconds;
  } finally {
    x.dispose();
  }
}
