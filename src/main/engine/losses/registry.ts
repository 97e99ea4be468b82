// Losses by name, each with one uniform signature (LossBatch, LossOptions) → named parts,
// so the run config can name them and the trainer logs every part.
import * as tf from '@tensorflow/tfjs';
import { ceLoss } from './ce.js';
import { dkdLoss } from './dkd.js';
import { distLoss } from './dist.js';
import { dmlLoss } from './dml.js';
import { jsLoss } from './js.js';
import { kdLoss } from './kd.js';
import { symklLoss } from './symkl.js';
import { wslLoss } from './wsl.js';
import type { LossBatch, LossFn, LossOptions, LossParts, TeacherTarget } from './types.js';

export const LOSS_NAMES = ['ce', 'kd', 'js', 'symkl', 'dml', 'dkd', 'dist', 'wsl'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

const DEFAULTS = { temperature: 1, alpha: 0.9, beta: 1, gamma: 1, divergence: 'js', warm: 1 } as const;

function one(name: string, b: LossBatch): tf.Tensor2D {
  if (b.logits.length !== 1) throw new Error(`loss "${name}" takes one student, got ${b.logits.length}`);
  return b.logits[0]!;
}
function needLabels(name: string, b: LossBatch): tf.Tensor2D {
  if (!b.labels) throw new Error(`loss "${name}" needs labels`);
  return b.labels;
}
function needTeacher(name: string, b: LossBatch): TeacherTarget {
  if (!b.teacher) throw new Error(`loss "${name}" needs the teacher's predictions`);
  return b.teacher;
}

export const LOSSES: Readonly<Record<LossName, LossFn>> = {
  ce: (b) => ceLoss(one('ce', b), needLabels('ce', b), b.mask),
  kd: (b, o = {}) =>
    kdLoss(one('kd', b), needTeacher('kd', b), needLabels('kd', b), b.mask, {
      temperature: o.temperature ?? DEFAULTS.temperature,
      alpha: o.alpha ?? DEFAULTS.alpha,
    }),
  js: (b, o = {}) => jsLoss(one('js', b), needTeacher('js', b), o.temperature ?? DEFAULTS.temperature),
  symkl: (b, o = {}) => symklLoss(one('symkl', b), needTeacher('symkl', b), o.temperature ?? DEFAULTS.temperature),
  dml: (b, o = {}) =>
    dmlLoss(b.logits, b.labels, b.mask, {
      temperature: o.temperature ?? DEFAULTS.temperature,
      beta: o.beta ?? DEFAULTS.beta,
      divergence: o.divergence ?? DEFAULTS.divergence,
    }),
  // DKD and WSL decouple at the labeled class: through the registry they need labels.
  dkd: (b, o = {}) =>
    dkdLoss(one('dkd', b), needTeacher('dkd', b), needLabels('dkd', b), {
      temperature: o.temperature ?? DEFAULTS.temperature,
      alpha: o.alpha ?? DEFAULTS.alpha,
      beta: o.beta ?? DEFAULTS.beta,
      warm: o.warm ?? DEFAULTS.warm,
    }),
  dist: (b, o = {}) =>
    distLoss(one('dist', b), needTeacher('dist', b), {
      temperature: o.temperature ?? DEFAULTS.temperature,
      beta: o.beta ?? DEFAULTS.beta,
      gamma: o.gamma ?? DEFAULTS.gamma,
    }),
  wsl: (b, o = {}) =>
    wslLoss(one('wsl', b), needTeacher('wsl', b), needLabels('wsl', b), {
      temperature: o.temperature ?? DEFAULTS.temperature,
      alpha: o.alpha ?? DEFAULTS.alpha,
    }),
};

export function isLossName(name: string): name is LossName {
  return (LOSS_NAMES as readonly string[]).includes(name);
}

export function getLoss(name: string): LossFn {
  if (!isLossName(name)) throw new Error(`unknown loss "${name}" (${LOSS_NAMES.join(', ')})`);
  return LOSSES[name];
}

/** The objective: Σ weight(part)·part, weight defaulting to 1 (PaddleClas CombinedLoss). */
export function totalLoss(parts: LossParts, weights: Readonly<Record<string, number>> = {}): tf.Scalar {
  const terms = Object.entries(parts).map(([k, v]) => (weights[k] === undefined ? v : tf.mul(v, weights[k]!)));
  if (terms.length === 0) return tf.scalar(0);
  return tf.addN(terms) as tf.Scalar;
}

export type { LossBatch, LossOptions, LossParts };
