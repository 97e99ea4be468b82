// Cross-entropy from logits with hard (one-hot) or soft labels and a per-example label mask:
// mean over the labeled examples, 0 when the batch has none.
import * as tf from '@tensorflow/tfjs';
import type { LossParts } from './types.js';

/** −Σ y·log softmax(z) per row, [N]. */
export function crossEntropyRows(logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor1D {
  if (logits.shape.join() !== labels.shape.join()) {
    throw new Error(`labels shape [${labels.shape}] does not match logits [${logits.shape}]`);
  }
  return tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), -1)) as tf.Tensor1D;
}

/** Masked mean of crossEntropyRows; mask [N] of 0/1 (omitted: every row labeled). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor2D, mask?: tf.Tensor1D): tf.Scalar {
  const rows = crossEntropyRows(logits, labels);
  if (!mask) return tf.mean(rows);
  return tf.div(tf.sum(tf.mul(rows, mask)), tf.maximum(tf.sum(mask), 1));
}

export function ceLoss(logits: tf.Tensor2D, labels: tf.Tensor2D, mask?: tf.Tensor1D): LossParts {
  return { ce: crossEntropy(logits, labels, mask) };
}
