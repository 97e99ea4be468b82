// UDML's feature part: each student's pooled features pulled toward its peers' (detached, as DML's
// soft labels are), so the pull on student k is its own term:
//   part `feat_peer_s{k}` = γ · mean_{j≠k} mean over rows and dimensions of (f_k − f̄_j)²
// Peers must share the feature size (the run refuses others before training).
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './detach.js';
import type { LossParts } from './types.js';

export function peerFeatureLoss(features: tf.Tensor2D[], { gamma }: { gamma: number }): LossParts {
  if (features.length < 2) throw new Error(`the peer feature distance needs at least 2 students, got ${features.length}`);
  if (!(gamma >= 0)) throw new Error(`peer feature weight must be ≥ 0, got ${gamma}`);
  const dims = features.map((f) => f.shape[1]);
  if (new Set(dims).size !== 1) throw new Error(`peer features differ in size (${dims.join(', ')}): UDML needs peers with the same feature size`);
  const fixed = features.map((f) => stopGradient(f));
  const parts: LossParts = {};
  features.forEach((f, k) => {
    const terms = fixed.filter((_, j) => j !== k).map((g) => tf.mean(tf.square(tf.sub(f, g))));
    parts[`feat_peer_s${k}`] = tf.mul(tf.addN(terms), gamma / terms.length) as tf.Scalar;
  });
  return parts;
}
