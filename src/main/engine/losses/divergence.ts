// Divergences between rows of two distributions, on (probability, log-probability) pairs so that
// logits-derived log-probs stay exact (log-softmax) and only logs of given probabilities are clipped.
// Natural log; rows reduce to [N].
import * as tf from '@tensorflow/tfjs';

/** Floor for probabilities whose log is taken. */
export const EPS = 1e-7;

export interface Dist {
  p: tf.Tensor2D;
  logp: tf.Tensor2D;
}

/** A given probability tensor as a Dist (log clipped at EPS; p·log p → 0 where p = 0). */
export function fromProbs(p: tf.Tensor2D): Dist {
  return { p, logp: tf.log(tf.maximum<tf.Tensor2D>(p, EPS)) };
}

/** KL(p‖q) per row: Σ p (log p − log q). */
export function klRows(p: Dist, q: Dist): tf.Tensor1D {
  return tf.sum(tf.mul(p.p, tf.sub(p.logp, q.logp)), -1);
}

/** Jensen–Shannon per row: ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2. In [0, ln 2]. */
export function jsRows(p: Dist, q: Dist): tf.Tensor1D {
  const logm = tf.log(tf.maximum(tf.mul(tf.add(p.p, q.p), 0.5), EPS));
  const a = tf.sum(tf.mul(p.p, tf.sub(p.logp, logm)), -1);
  const b = tf.sum(tf.mul(q.p, tf.sub(q.logp, logm)), -1);
  return tf.mul(tf.add(a, b), 0.5);
}

/** Symmetric KL per row: ½(KL(p‖q) + KL(q‖p)) = ½ Σ (p − q)(log p − log q). */
export function symKlRows(p: Dist, q: Dist): tf.Tensor1D {
  return tf.mul(tf.sum(tf.mul(tf.sub(p.p, q.p), tf.sub(p.logp, q.logp)), -1), 0.5);
}

/** KL(p‖q) per row for probability tensors [N, C] (metrics). */
export function klDivergenceRows(p: tf.Tensor2D, q: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => klRows(fromProbs(p), fromProbs(q)));
}

/** Jensen–Shannon divergence per row for probability tensors [N, C] (metrics). */
export function jsDivergenceRows(p: tf.Tensor2D, q: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => jsRows(fromProbs(p), fromProbs(q)));
}

/** Batch mean of KL(p‖q) for probability tensors [N, C]. */
export function klDivergence(p: tf.Tensor2D, q: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(klDivergenceRows(p, q)));
}

/** Batch mean of JS(p, q) for probability tensors [N, C]. */
export function jsDivergence(p: tf.Tensor2D, q: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(jsDivergenceRows(p, q)));
}
