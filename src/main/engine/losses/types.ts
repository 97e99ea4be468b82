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

export interface LossBatch {
  /** Student logits [N, C]: exactly one entry, except DML (one per student, K ≥ 2). */
  logits: tf.Tensor2D[];
  /** One-hot (or soft) ground truth [N, C]; rows of unlabeled examples may hold anything. */
  labels?: tf.Tensor2D;
  /** [N], 1 where the example has a label, 0 where not. Default: all labeled when labels are given. */
  mask?: tf.Tensor1D;
  teacher?: TeacherTarget;
}

export const DIVERGENCE_NAMES = ['js', 'symkl'] as const;
export type DivergenceName = (typeof DIVERGENCE_NAMES)[number];

export interface LossOptions {
  /** Softening temperature τ > 0 applied to student, teacher and peers. Default 1. */
  temperature?: number;
  /** KD: weight of the teacher term, 1 − α goes to CE; DKD: weight of TCKD; WSL: weight of the soft term. Default 0.9. */
  alpha?: number;
  /** DML: weight of the peer divergence; DKD: weight of NCKD; DIST: weight of the inter-class part. Default 1. */
  beta?: number;
  /** DIST: weight of the intra-class part. Default 1. */
  gamma?: number;
  /** DKD: warm-up factor in [0, 1]. Default 1. */
  warm?: number;
  /** DML: which divergence to the peers. Default 'js'. */
  divergence?: DivergenceName;
}

export type LossFn = (batch: LossBatch, options?: LossOptions) => LossParts;
