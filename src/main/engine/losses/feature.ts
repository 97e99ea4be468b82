// Feature distillation: the student's pooled features, mapped by a learned adapter to the teacher's
// feature size, regress the teacher's pooled features (no labels). Part `feat`:
//   mse:    mean over rows and dimensions of (a − t)²
//   cosine: mean over rows of 1 − a·t / (‖a‖‖t‖)
// The teacher's features are a fixed target (no gradient flows into them).
import * as tf from '@tensorflow/tfjs';
import type { FEATURE_LOSS_KINDS } from '../../../shared/run-config.js';
import { stopGradient } from './detach.js';
import type { LossParts } from './types.js';

export type FeatureLossKind = (typeof FEATURE_LOSS_KINDS)[number];

/** Guards the norm of an all-zero row (a ReLU feature vector can be one). */
export const COSINE_EPS = 1e-8;

export function featureLoss(adapted: tf.Tensor2D, teacher: tf.Tensor2D, kind: FeatureLossKind): LossParts {
  if (adapted.shape[0] !== teacher.shape[0] || adapted.shape[1] !== teacher.shape[1]) {
    throw new Error(`feature loss: student features ${JSON.stringify(adapted.shape)} vs teacher ${JSON.stringify(teacher.shape)}`);
  }
  const t = stopGradient(teacher);
  if (kind === 'mse') return { feat: tf.mean(tf.square(tf.sub(adapted, t))) as tf.Scalar };
  const dot = tf.sum(tf.mul(adapted, t), 1);
  const na = tf.sqrt(tf.add(tf.sum(tf.square(adapted), 1), COSINE_EPS));
  const nt = tf.sqrt(tf.add(tf.sum(tf.square(t), 1), COSINE_EPS));
  return { feat: tf.mean(tf.sub(1, tf.div(dot, tf.mul(na, nt)))) as tf.Scalar };
}
