// Shared shapes of the loss functions. Every loss returns NAMED PARTS (PaddleClas style,
// `{"DMLLoss": loss}`): each part already carries its coefficient, the training objective is
// their sum (see totalLoss), and the trainer logs every part per step.
import type * as tf from '@tensorflow/tfjs';

export type LossParts = Record<string, tf.Scalar>;

/**
 * The teacher's prediction for a batch, [N, C]. Either form is accepted: `probs` is what the
 * soft-label cache stores (possibly top-k truncated and fp16-rounded: rows are renormalized,
 * zeros stay zero); `logits` is what a live teacher model outputs. Temperature applies to both:
 * softmax(logits/τ), or p^(1/τ) renormalized (the same thing when p is a full softmax).
 */
export type TeacherTarget = { probs: tf.Tensor2D } | { logits: tf.Tensor2D };

export const DIVERGENCE_NAMES = ['js', 'symkl'] as const;
export type DivergenceName = (typeof DIVERGENCE_NAMES)[number];
