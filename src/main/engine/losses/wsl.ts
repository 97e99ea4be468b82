// Weighted soft labels (Zhou et al., ICLR 2021). KD's soft term, weighted per example by how much
// worse the student does than the teacher on that example's class:
//   w_i = 1 − exp(−CE_S,i / CE_T,i)   (CE at τ = 1 against the target class, both detached; w ≥ 0)
//   wsl = α·τ²·mean_i w_i·KL(p_T^τ ‖ p_S^τ)
// An example the teacher gets wrong (large CE_T) relative to the student gets little weight: the
// bias–variance reading of the paper. The reference code uses CE(p_T, p_S) where this uses KL; the
// two differ by the teacher's entropy, a constant, so the gradients are the same.
// The target class is given per row (ground truth, or the teacher's top class where there is none).
import * as tf from '@tensorflow/tfjs';
import { crossEntropyRows } from './ce.js';
import { stopGradient } from './detach.js';
import { checkTemperature, fromLogits, teacherDist } from './distributions.js';
import { klRows } from './divergence.js';
import type { LossParts, TeacherTarget } from './types.js';

export interface WslOptions {
  temperature: number;
  alpha: number;
}

/** Floor of the teacher's CE in the ratio (the reference code's 1e-7). */
const RATIO_EPS = 1e-7;

/** Per-example weights [N], detached. */
export function wslWeights(logits: tf.Tensor2D, teacher: TeacherTarget, target: tf.Tensor2D): tf.Tensor1D {
  const ceS = crossEntropyRows(stopGradient(logits), target);
  const ceT = tf.neg(tf.sum(tf.mul(target, teacherDist(teacher, 1).logp), -1));
  const ratio = tf.relu(tf.div(ceS, tf.add(ceT, RATIO_EPS)));
  return stopGradient(tf.sub(1, tf.exp(tf.neg(ratio))) as tf.Tensor1D);
}

/** Part `wsl`; the trainer adds the labeled CE part beside it. */
export function wslLoss(logits: tf.Tensor2D, teacher: TeacherTarget, target: tf.Tensor2D, { temperature, alpha }: WslOptions): LossParts {
  checkTemperature(temperature);
  if (!(alpha >= 0)) throw new Error(`WSL alpha must be ≥ 0, got ${alpha}`);
  if (logits.shape.join() !== target.shape.join()) {
    throw new Error(`WSL target shape [${target.shape}] does not match logits [${logits.shape}]`);
  }
  const kl = klRows(teacherDist(teacher, temperature), fromLogits(logits, temperature));
  const w = wslWeights(logits, teacher, target);
  return { wsl: tf.mul(tf.mean(tf.mul(w, kl)), alpha * temperature * temperature) };
}
