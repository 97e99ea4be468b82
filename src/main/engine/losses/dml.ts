// Deep mutual learning for K ≥ 2 students trained together. Student k's loss:
//   CE(y, p_k) over labeled examples + β · mean_{j≠k} D(p̄_j^τ, p_k^τ)
// with D = JS or symmetric KL and p̄_j the peer's DETACHED prediction, so each student is pulled
// toward its peers without pulling them. Parts per student: `ce_s{k}` and `{js|symkl}_s{k}`; their
// sum is the joint objective, whose gradient w.r.t. student k's logits is exactly student k's loss's.
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from './ce.js';
import { stopGradient } from './detach.js';
import { checkTemperature, fromLogits } from './distributions.js';
import { jsRows, symKlRows, type Dist } from './divergence.js';
import type { DivergenceName, LossParts } from './types.js';

export interface DmlOptions {
  temperature: number;
  beta: number;
  divergence: DivergenceName;
}

export function dmlLoss(
  logits: tf.Tensor2D[],
  labels: tf.Tensor2D | undefined,
  mask: tf.Tensor1D | undefined,
  { temperature, beta, divergence }: DmlOptions,
): LossParts {
  if (logits.length < 2) throw new Error(`DML needs at least 2 students, got ${logits.length}`);
  checkTemperature(temperature);
  if (!(beta >= 0)) throw new Error(`DML beta must be ≥ 0, got ${beta}`);
  const rows = divergence === 'js' ? jsRows : symKlRows;
  const dists = logits.map((z) => fromLogits(z, temperature));
  const detached: Dist[] = dists.map((d) => ({ p: stopGradient(d.p), logp: stopGradient(d.logp) }));
  const parts: LossParts = {};
  logits.forEach((z, k) => {
    parts[`ce_s${k}`] = labels ? crossEntropy(z, labels, mask) : tf.scalar(0);
    const peers = detached.filter((_, j) => j !== k).map((peer) => tf.mean(rows(peer, dists[k]!)));
    parts[`${divergence}_s${k}`] = tf.mul(tf.addN(peers), beta / peers.length);
  });
  return parts;
}
