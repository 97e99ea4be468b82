// SSLD loss: Jensen–Shannon divergence between the softened teacher and student distributions,
// ½KL(p_T‖m) + ½KL(p_S‖m), m = (p_T+p_S)/2. No ground truth. Not scaled by τ² (its value stays
// the divergence itself, in [0, ln 2]); scale through the part's weight if wanted.
import * as tf from '@tensorflow/tfjs';
import { checkTemperature, fromLogits, teacherDist } from './distributions.js';
import { jsRows } from './divergence.js';
import type { LossParts, TeacherTarget } from './types.js';

export function jsLoss(logits: tf.Tensor2D, teacher: TeacherTarget, temperature = 1): LossParts {
  checkTemperature(temperature);
  return { js: tf.mean(jsRows(teacherDist(teacher, temperature), fromLogits(logits, temperature))) };
}
