// Softened distributions from logits (student, live teacher, peers) or from stored probabilities.
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './detach.js';
import { EPS, type Dist } from './divergence.js';
import type { TeacherTarget } from './types.js';

export function checkTemperature(t: number): number {
  if (!(t > 0) || !Number.isFinite(t)) throw new Error(`temperature must be a positive number, got ${t}`);
  return t;
}

/** softmax(z/τ) with an exact log (log-softmax, no clipping). */
export function fromLogits(logits: tf.Tensor2D, temperature = 1): Dist {
  const z = temperature === 1 ? logits : tf.div<tf.Tensor2D>(logits, temperature);
  const logp = tf.logSoftmax(z) as tf.Tensor2D;
  return { p: tf.exp(logp), logp };
}

/**
 * p^(1/τ) renormalized per row. Scaling by the row max first keeps p^(1/τ) from underflowing;
 * zeros (top-k truncation) stay zero; a row that is all zeros stays all zeros.
 */
export function temperProbs(probs: tf.Tensor2D, temperature = 1): tf.Tensor2D {
  const scaled = tf.div<tf.Tensor2D>(probs, tf.maximum(tf.max(probs, -1, true), EPS));
  const powered = temperature === 1 ? scaled : tf.pow(scaled, 1 / temperature);
  return tf.div<tf.Tensor2D>(powered, tf.maximum(tf.sum(powered, -1, true), EPS));
}

/** The teacher's softened distribution, detached (the teacher is never trained by these losses). */
export function teacherDist(target: TeacherTarget, temperature = 1): Dist {
  if ('logits' in target) {
    const d = fromLogits(target.logits, temperature);
    return { p: stopGradient(d.p), logp: stopGradient(d.logp) };
  }
  const p = stopGradient(temperProbs(target.probs, temperature));
  return { p, logp: tf.log(tf.maximum<tf.Tensor2D>(p, EPS)) };
}
