// The objective from named parts (PaddleClas CombinedLoss): what the trainer minimizes.
import * as tf from '@tensorflow/tfjs';
import type { LossParts } from './types.js';

/** Σ weight(part)·part, weight defaulting to 1. */
export function totalLoss(parts: LossParts, weights: Readonly<Record<string, number>> = {}): tf.Scalar {
  const terms = Object.entries(parts).map(([k, v]) => (weights[k] === undefined ? v : tf.mul(v, weights[k]!)));
  if (terms.length === 0) return tf.scalar(0);
  return tf.addN(terms) as tf.Scalar;
}
