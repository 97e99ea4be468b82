// Relational KD (Park et al., 2019) on penultimate (pooled) features [N, D]; student and teacher
// dimensions may differ, since only relations between the images of a batch are compared:
//   distance: ψ_D(i,j) = ‖f_i − f_j‖ / μ, μ the mean distance over pairs i≠j;
//             part `rkd_dist` = β · mean over i≠j of Huber(ψ_S − ψ_T)
//   angle:    e_ij = (f_i − f_j)/‖f_i − f_j‖, ψ_A(i,j,k) = ⟨e_ij, e_kj⟩;
//             part `rkd_angle` = γ · mean over all (i,j,k) of Huber(ψ_S − ψ_T)
// Huber with δ = 1 (smooth L1). The teacher's relations are fixed targets.
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './detach.js';
import type { LossParts } from './types.js';

export interface RkdOptions {
  /** Weight of the distance part (the paper: 25). */
  distanceWeight: number;
  /** Weight of the angle part (the paper: 50). */
  angleWeight: number;
}

/** Keeps the square root's gradient finite on the diagonal and between identical images. */
const DIST_EPS = 1e-12;

/** Pairwise Euclidean distances [N, N] (0 on the diagonal). */
export function pairwiseDistances(f: tf.Tensor2D): tf.Tensor2D {
  const sq = tf.sum(tf.square(f), 1, true);
  const d2 = tf.relu(tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(2, tf.matMul(f, f, false, true))));
  const n = f.shape[0]!;
  const offDiag = tf.sub(1, tf.eye(n));
  return tf.mul(tf.sqrt(tf.add(d2, DIST_EPS)), offDiag) as tf.Tensor2D;
}

/** Smooth L1 as 0.5·m² + |x| − m with m = min(|x|, 1): one expression, differentiable by tfjs. */
function huber(x: tf.Tensor): tf.Tensor {
  const a = tf.abs(x);
  const m = tf.minimum(a, 1);
  return tf.add(tf.mul(0.5, tf.square(m)), tf.sub(a, m));
}

function normalizedDistances(f: tf.Tensor2D): tf.Tensor2D {
  const n = f.shape[0]!;
  const d = pairwiseDistances(f);
  const mu = tf.div(tf.sum(d), Math.max(1, n * (n - 1)));
  return tf.div(d, tf.add(mu, 1e-12)) as tf.Tensor2D;
}

/** Cosines ψ(i,j,k) = ⟨e_ij, e_kj⟩ as [N(j), N(i), N(k)]. */
function angles(f: tf.Tensor2D): tf.Tensor3D {
  // diff[j, i] = f_i − f_j, unit length (the zero diagonal stays zero).
  const diff = tf.sub(tf.expandDims(f, 0), tf.expandDims(f, 1)) as tf.Tensor3D;
  const norm = tf.sqrt(tf.add(tf.sum(tf.square(diff), 2, true), DIST_EPS));
  const e = tf.div(diff, norm) as tf.Tensor3D;
  return tf.matMul(e, e, false, true);
}

export function rkdLoss(student: tf.Tensor2D, teacher: tf.Tensor2D, { distanceWeight, angleWeight }: RkdOptions): LossParts {
  const n = student.shape[0]!;
  if (teacher.shape[0] !== n) throw new Error(`RKD: ${n} student rows vs ${teacher.shape[0]} teacher rows`);
  if (!(distanceWeight >= 0) || !(angleWeight >= 0)) throw new Error(`RKD weights must be ≥ 0, got ${distanceWeight}, ${angleWeight}`);
  if (n < 2) return { rkd_dist: tf.scalar(0), rkd_angle: tf.scalar(0) };
  const t = stopGradient(teacher);
  const dist = tf.div(tf.sum(huber(tf.sub(normalizedDistances(student), normalizedDistances(t)))), n * (n - 1));
  const angle = tf.mean(huber(tf.sub(angles(student), angles(t))));
  return { rkd_dist: tf.mul(dist, distanceWeight) as tf.Scalar, rkd_angle: tf.mul(angle, angleWeight) as tf.Scalar };
}
