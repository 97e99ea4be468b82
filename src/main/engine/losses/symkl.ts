// Symmetric KL ½(KL(p_T‖p_S) + KL(p_S‖p_T)): what PaddleClas's DMLLoss computes under the name
// "JS". Summed over classes and averaged over the batch (PaddleClas by default also averages over
// classes, i.e. its value is ours divided by C). Unbounded where the teacher puts ~0 mass.
import * as tf from '@tensorflow/tfjs';
import { checkTemperature, fromLogits, teacherDist } from './distributions.js';
import { symKlRows } from './divergence.js';
import type { LossParts, TeacherTarget } from './types.js';

export function symklLoss(logits: tf.Tensor2D, teacher: TeacherTarget, temperature = 1): LossParts {
  checkTemperature(temperature);
  return { symkl: tf.mean(symKlRows(teacherDist(teacher, temperature), fromLogits(logits, temperature))) };
}
