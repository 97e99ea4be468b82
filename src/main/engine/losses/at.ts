// Attention transfer (Zagoruyko & Komodakis, 2017) on one spatial stage, NHWC [N, H, W, C]:
//   Q = mean over channels of F² → [N, H·W], a = Q / ‖Q‖₂ per image;
//   part `at` = β · mean over images and positions of (a_S − a_T)²
// (the mean form torchdistill uses, with the paper's β = 1000). Student and teacher may differ in
// channels and in size: the teacher's map Q is resized (bilinear, half-pixel centres) to the
// student's H×W before it is normalized. The teacher's map is a fixed target.
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './detach.js';
import type { LossParts } from './types.js';

const NORM_EPS = 1e-12;

/** Mean of squares over channels, [N, H, W, 1]. */
export function attentionEnergy(f: tf.Tensor4D): tf.Tensor4D {
  return tf.mean(tf.square(f), 3, true) as tf.Tensor4D;
}

/** L2-normalized flattened map [N, H·W]. */
export function attentionMap(q: tf.Tensor4D): tf.Tensor2D {
  const n = q.shape[0]!;
  const flat = tf.reshape(q, [n, -1]) as tf.Tensor2D;
  return tf.div(flat, tf.add(tf.sqrt(tf.sum(tf.square(flat), 1, true)), NORM_EPS)) as tf.Tensor2D;
}

export function atLoss(student: tf.Tensor4D, teacher: tf.Tensor4D, { beta }: { beta: number }): LossParts {
  if (student.shape[0] !== teacher.shape[0]) throw new Error(`AT: ${student.shape[0]} student maps vs ${teacher.shape[0]} teacher maps`);
  if (!(beta >= 0)) throw new Error(`AT beta must be ≥ 0, got ${beta}`);
  const [, h, w] = student.shape;
  let qt = attentionEnergy(stopGradient(teacher));
  if (qt.shape[1] !== h || qt.shape[2] !== w) qt = tf.image.resizeBilinear(qt, [h!, w!], false, true);
  const diff = tf.sub(attentionMap(attentionEnergy(student)), attentionMap(qt));
  return { at: tf.mul(tf.mean(tf.square(diff)), beta) as tf.Scalar };
}
