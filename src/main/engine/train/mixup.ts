// Mixup for distillation ("function matching", Beyer et al. 2022): each image of a batch is blended
// with its partner (the batch in reverse order) by a weight λ ~ U(0, 1) = Beta(1, 1), on the host
// pixels, before the teacher and the student see them, so the teacher labels exactly the mixed image
// the student learns from. Labels, where a loss reads them, blend the same way. The draws follow the
// run's seed and the step, so a resumed run mixes as the uninterrupted one would.
import * as tf from '@tensorflow/tfjs';
import { hashSeed, Rng } from '../data/rng.js';

/** Separate from the pipeline's shuffle and crop streams (data/rng.ts). */
const STREAM_MIX = 3;

export interface MixPlan {
  /** Weight of image i itself; 1 − lambda[i] goes to its partner. */
  lambda: Float32Array;
  /** Index of image i's partner in the batch. */
  partner: Int32Array;
}

export function mixPlan(n: number, seed: number, step: number): MixPlan {
  const rng = new Rng(hashSeed(seed, STREAM_MIX, step));
  const lambda = new Float32Array(n);
  const partner = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    lambda[i] = rng.next();
    partner[i] = n - 1 - i;
  }
  return { lambda, partner };
}

/** The mixed batch (a new array): out_i = λ_i·x_i + (1 − λ_i)·x_partner(i) for the first n images of x, `per` values each. */
export function mixPixels(x: Float32Array, n: number, per: number, plan: MixPlan): Float32Array {
  if (plan.lambda.length !== n || per * n > x.length) throw new Error(`mixup: a plan for ${plan.lambda.length} images, a batch of ${n} × ${per} in ${x.length} values`);
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    const l = plan.lambda[i]!;
    const a = i * per;
    const b = plan.partner[i]! * per;
    for (let k = 0; k < per; k++) out[a + k] = l * x[a + k]! + (1 - l) * x[b + k]!;
  }
  return out;
}

/** Targets blended like their images: one-hot rows mix, and a row counts only when both images had a label. */
export function mixTargets(onehot: tf.Tensor2D, mask: tf.Tensor1D, plan: MixPlan): { onehot: tf.Tensor2D; mask: tf.Tensor1D } {
  return tf.tidy(() => {
    const n = plan.lambda.length;
    const lam = tf.tensor2d(plan.lambda, [n, 1]);
    const idx = tf.tensor1d(plan.partner, 'int32');
    const mixed = tf.add(tf.mul(lam, onehot), tf.mul(tf.sub(1, lam), tf.gather(onehot, idx))) as tf.Tensor2D;
    return { onehot: mixed, mask: tf.mul(mask, tf.gather(mask, idx)) as tf.Tensor1D };
  });
}
