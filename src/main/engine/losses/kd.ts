// Hinton knowledge distillation: α·τ²·KL(p_T^τ ‖ p_S^τ) + (1−α)·CE(y, p_S).
// τ² keeps the soft term's gradient scale independent of τ (Hinton et al. 2015).
// The KL term covers every example; CE only the labeled ones (mask).
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from './ce.js';
import { checkTemperature, fromLogits, teacherDist } from './distributions.js';
import { klRows } from './divergence.js';
import type { LossParts, TeacherTarget } from './types.js';

export interface KdOptions {
  temperature: number;
  alpha: number;
}

/** Parts: `kd` = α·τ²·KL (batch mean), `ce` = (1−α)·CE (mean over labeled examples). */
export function kdLoss(
  logits: tf.Tensor2D,
  teacher: TeacherTarget,
  labels: tf.Tensor2D,
  mask: tf.Tensor1D | undefined,
  { temperature, alpha }: KdOptions,
): LossParts {
  checkTemperature(temperature);
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`KD alpha must be in [0, 1], got ${alpha}`);
  const kl = tf.mean(klRows(teacherDist(teacher, temperature), fromLogits(logits, temperature)));
  return {
    kd: tf.mul(kl, alpha * temperature * temperature),
    ce: tf.mul(crossEntropy(logits, labels, mask), 1 - alpha),
  };
}
