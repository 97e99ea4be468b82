// Decoupled knowledge distillation (Zhao et al., CVPR 2022). KD's KL splits into
//   TCKD = KL(b_T ‖ b_S), b = [p_target, 1 − p_target]  (how sure: the binary target/rest split)
//   NCKD = KL(p̂_T ‖ p̂_S), p̂ = softmax over the non-target classes only  (how the rest is ranked)
// weighted separately: warm·(α·τ²·TCKD + β·τ²·NCKD), `warm` ramping linearly 0 → 1 over the first
// epochs (the paper's warm-up, which keeps the large β from swamping an untrained student).
// The target class is given per row (ground truth, or the teacher's top class where there is none).
// With two classes the non-target distribution is a single class, so NCKD is 0 by construction.
import * as tf from '@tensorflow/tfjs';
import { checkTemperature, teacherDist } from './distributions.js';
import { EPS, fromProbs, klRows } from './divergence.js';
import type { LossParts, TeacherTarget } from './types.js';

export interface DkdOptions {
  temperature: number;
  alpha: number;
  beta: number;
  /** Linear warm-up factor in [0, 1] applied to both parts (1 once warm). */
  warm: number;
}

/** Large negative logit that removes the target class from a softmax (the paper's masking). */
const MASK_LOGIT = 1000;

/** min(1, progress / warmupEpochs); 1 without warm-up. */
export function dkdWarmFactor(epochProgress: number, warmupEpochs: number): number {
  if (!(warmupEpochs > 0)) return 1;
  return Math.min(1, Math.max(0, epochProgress / warmupEpochs));
}

/**
 * Parts: `tckd`, `nckd` (batch means over every row, each already scaled by warm·weight·τ²).
 * `target` is one-hot [N, C]: the class each row's distributions are decoupled at.
 */
export function dkdLoss(
  logits: tf.Tensor2D,
  teacher: TeacherTarget,
  target: tf.Tensor2D,
  { temperature, alpha, beta, warm }: DkdOptions,
): LossParts {
  checkTemperature(temperature);
  if (!(alpha >= 0)) throw new Error(`DKD alpha must be ≥ 0, got ${alpha}`);
  if (!(beta >= 0)) throw new Error(`DKD beta must be ≥ 0, got ${beta}`);
  if (!(warm >= 0 && warm <= 1)) throw new Error(`DKD warm-up factor must be in [0, 1], got ${warm}`);
  if (logits.shape.join() !== target.shape.join()) {
    throw new Error(`DKD target shape [${target.shape}] does not match logits [${logits.shape}]`);
  }
  const rest = tf.sub(1, target);
  // Student, exactly in log space: log p_t = z_t − lse(z), log(1 − p_t) = lse(z without t) − lse(z).
  const z = tf.div<tf.Tensor2D>(logits, temperature);
  const lseAll = tf.logSumExp(z, -1, true);
  const zRest = tf.sub<tf.Tensor2D>(z, tf.mul(target, MASK_LOGIT));
  const lseRest = tf.logSumExp(zRest, -1, true);
  const logbS = tf.concat([tf.sub(tf.sum(tf.mul(z, target), -1, true), lseAll), tf.sub(lseRest, lseAll)], 1) as tf.Tensor2D;
  const bS = { p: tf.exp(logbS), logp: logbS };
  const logpHatS = tf.sub<tf.Tensor2D>(zRest, lseRest);
  const pHatS = { p: tf.exp(logpHatS), logp: logpHatS };

  // Teacher (detached by teacherDist): the same splits from its probabilities.
  const t = teacherDist(teacher, temperature);
  const tRest = tf.sum(tf.mul(t.p, rest), -1, true);
  const bT = fromProbs(tf.concat([tf.sum(tf.mul(t.p, target), -1, true), tRest], 1) as tf.Tensor2D);
  const pHatT = fromProbs(tf.div<tf.Tensor2D>(tf.mul(t.p, rest), tf.maximum(tRest, EPS)));

  const scale = warm * temperature * temperature;
  return {
    tckd: tf.mul(tf.mean(klRows(bT, bS)), alpha * scale),
    nckd: tf.mul(tf.mean(klRows(pHatT, pHatS)), beta * scale),
  };
}
