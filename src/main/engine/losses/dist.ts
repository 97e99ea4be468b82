// DIST (Huang et al., NeurIPS 2022): distillation from a stronger teacher by relations instead of
// exact probabilities. With P = softmax(z/τ) for student and teacher, [N, C]:
//   inter = τ²·(1 − mean over rows of Pearson(P_S[i,:], P_T[i,:]))   (class ranking per image)
//   intra = τ²·(1 − mean over classes of Pearson(P_S[:,c], P_T[:,c])) (image ranking per class)
// Parts `dist_inter` = β·inter, `dist_intra` = γ·intra. Pearson as in the reference code: the
// cosine of the centred vectors, its denominator floored at 1e-8 (a constant column gives 0).
// With two classes the per-row Pearson is ±1 (two centred 2-vectors are collinear): inter has no
// gradient there and only intra teaches.
import * as tf from '@tensorflow/tfjs';
import { checkTemperature, fromLogits, teacherDist } from './distributions.js';
import type { LossParts, TeacherTarget } from './types.js';

export interface DistOptions {
  temperature: number;
  beta: number;
  gamma: number;
}

const COS_EPS = 1e-8;

/** Pearson correlation between matching rows (axis 1) or columns (axis 0) of a and b. */
export function pearson(a: tf.Tensor2D, b: tf.Tensor2D, axis: 0 | 1): tf.Tensor1D {
  const ca = tf.sub(a, tf.mean(a, axis, true));
  const cb = tf.sub(b, tf.mean(b, axis, true));
  const dot = tf.sum(tf.mul(ca, cb), axis);
  const norms = tf.mul(tf.norm(ca, 'euclidean', axis), tf.norm(cb, 'euclidean', axis));
  return tf.div(dot, tf.maximum(norms, COS_EPS)) as tf.Tensor1D;
}

export function distLoss(logits: tf.Tensor2D, teacher: TeacherTarget, { temperature, beta, gamma }: DistOptions): LossParts {
  checkTemperature(temperature);
  if (!(beta >= 0)) throw new Error(`DIST beta must be ≥ 0, got ${beta}`);
  if (!(gamma >= 0)) throw new Error(`DIST gamma must be ≥ 0, got ${gamma}`);
  const s = fromLogits(logits, temperature).p;
  const t = teacherDist(teacher, temperature).p;
  const t2 = temperature * temperature;
  return {
    dist_inter: tf.mul(tf.sub(1, tf.mean(pearson(s, t, 1))), beta * t2),
    dist_intra: tf.mul(tf.sub(1, tf.mean(pearson(s, t, 0))), gamma * t2),
  };
}
