// What each method optimizes, as named parts (PaddleClas CombinedLoss style): every part is logged per
// step and drawn on the Run page, and the run config may weight any of them (loss.weights).
// Part names end in `_s{k}` for student k when there are several (DML).
import * as tf from '@tensorflow/tfjs';
import { NOT_IMPLEMENTED_REASON, type RunConfig } from '../../../shared/run-config.js';
import {
  ceLoss,
  distLoss,
  dkdLoss,
  dkdWarmFactor,
  dmlLoss,
  featureLoss,
  hintLoss,
  jsLoss,
  kdLoss,
  symklLoss,
  totalLoss,
  atLoss,
  peerFeatureLoss,
  rkdLoss,
  wslLoss,
  type LossParts,
  type TeacherTarget,
} from '../losses/index.js';

export interface LossInputs {
  /** One [N, C] logits tensor per student. */
  logits: tf.Tensor2D[];
  onehot: tf.Tensor2D;
  /** 1 where the example has a label the method may use, else 0. */
  mask: tf.Tensor1D;
  /** The teacher's prediction: live logits, or probabilities from the soft-label cache (τ=1). */
  teacher: TeacherTarget | null;
  temperature: number;
  /** Epochs done so far, fractional within an epoch (DKD's warm-up). */
  epochProgress: number;
  /** Feature regression (loss.feature, FitNets): student 0's adapted pooled features and the teacher's, [N, D]. */
  features?: { student: tf.Tensor2D; teacher: tf.Tensor2D };
  /** Raw pooled features (RKD: student 0 and the teacher; UDML: every student), see feature-needs.ts. */
  pooled?: { students: tf.Tensor2D[]; teacher?: tf.Tensor2D };
  /** Last spatial maps of student 0 and the teacher, NHWC (attention transfer). */
  maps?: { student: tf.Tensor4D; teacher: tf.Tensor4D };
  /** Matched-channel hints: student 0's maps and the teacher's at the same layers, channels and size (loss.hint). */
  hints?: { student: tf.Tensor4D[]; teacher: tf.Tensor4D[] };
}

export interface MethodLoss {
  total: tf.Scalar;
  parts: LossParts;
}

/** Methods whose loss reads the teacher (DML only when one is given); the others never need it run. */
export function methodUsesTeacher(method: RunConfig['method']): boolean {
  return method !== 'ce';
}

/**
 * The class each row is decoupled at (DKD) or weighted by (WSL), one-hot [N, C]: the label where the
 * example has one the method may use, else the teacher's top class (so unlabeled images still count).
 */
export function targetClasses(onehot: tf.Tensor2D, mask: tf.Tensor1D, teacher: TeacherTarget): tf.Tensor2D {
  const scores = 'logits' in teacher ? teacher.logits : teacher.probs;
  const pseudo = tf.oneHot(tf.argMax(scores, -1), onehot.shape[1]).toFloat();
  const m = tf.expandDims(mask, 1);
  return tf.add(tf.mul(onehot, m), tf.mul(pseudo, tf.sub(1, m))) as tf.Tensor2D;
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`no ${what} for this batch`);
  return v;
}

function needTeacher(config: RunConfig, t: TeacherTarget | null): TeacherTarget {
  if (!t) throw new Error(`method "${config.method}" needs a teacher`);
  return t;
}

export function methodLoss(config: RunConfig, inp: LossInputs): MethodLoss {
  const { logits, onehot, mask, temperature } = inp;
  const divergence = config.loss.divergence === 'js' ? jsLoss : symklLoss;
  let parts: LossParts;
  switch (config.method) {
    case 'ce':
      parts = ceLoss(logits[0]!, onehot, mask);
      break;
    case 'kd':
      parts = kdLoss(logits[0]!, needTeacher(config, inp.teacher), onehot, mask, {
        alpha: config.loss.alpha,
        temperature,
      });
      break;
    case 'ssld':
      // SSLD: the teacher's soft labels on every image, no ground truth needed. Labels, where the
      // config allows them, add a CE part (with useLabels=false the mask is all zeros anyway).
      parts = divergence(logits[0]!, needTeacher(config, inp.teacher), temperature);
      if (config.data.useLabels) parts = { ...parts, ...ceLoss(logits[0]!, onehot, mask) };
      break;
    case 'dml':
    case 'udml':
      parts = dmlLoss(logits, config.data.useLabels ? onehot : undefined, mask, {
        temperature,
        beta: config.loss.beta,
        divergence: config.loss.divergence,
      });
      if (inp.teacher) {
        // DML with a teacher: each student also learns from the teacher's soft labels.
        logits.forEach((l, k) => {
          const p = divergence(l, inp.teacher!, temperature);
          for (const [name, v] of Object.entries(p)) parts[`teacher_${name}_s${k}`] = v;
        });
      }
      // UDML: the peers' pooled features pulled together too.
      if (config.method === 'udml') parts = { ...parts, ...peerFeatureLoss(need(inp.pooled, 'pooled features').students, { gamma: config.loss.gamma }) };
      break;
    case 'fitnets': {
      // FitNets: labels where allowed, and the hint: student features through the adapter regress the teacher's.
      const f = need(inp.features, 'adapted features');
      parts = { ...ceLoss(logits[0]!, onehot, mask), ...featureLoss(f.student, f.teacher, 'mse') };
      break;
    }
    case 'rkd': {
      const p = need(inp.pooled, 'pooled features');
      parts = {
        ...ceLoss(logits[0]!, onehot, mask),
        ...rkdLoss(p.students[0]!, need(p.teacher, "the teacher's pooled features"), { distanceWeight: config.loss.beta, angleWeight: config.loss.gamma }),
      };
      break;
    }
    case 'at': {
      const m = need(inp.maps, 'attention maps');
      parts = { ...ceLoss(logits[0]!, onehot, mask), ...atLoss(m.student, m.teacher, { beta: config.loss.beta }) };
      break;
    }
    case 'dkd': {
      const teacher = needTeacher(config, inp.teacher);
      parts = {
        ...ceLoss(logits[0]!, onehot, mask),
        ...dkdLoss(logits[0]!, teacher, targetClasses(onehot, mask, teacher), {
          temperature,
          alpha: config.loss.alpha,
          beta: config.loss.beta,
          warm: dkdWarmFactor(inp.epochProgress, config.loss.dkdWarmupEpochs),
        }),
      };
      break;
    }
    case 'dist':
      parts = {
        ...ceLoss(logits[0]!, onehot, mask),
        ...distLoss(logits[0]!, needTeacher(config, inp.teacher), { temperature, beta: config.loss.beta, gamma: config.loss.gamma }),
      };
      break;
    case 'wsl': {
      const teacher = needTeacher(config, inp.teacher);
      parts = {
        ...ceLoss(logits[0]!, onehot, mask),
        ...wslLoss(logits[0]!, teacher, targetClasses(onehot, mask, teacher), { temperature, alpha: config.loss.alpha }),
      };
      break;
    }
    default:
      // The schema refuses these before a run is created; a stored one cannot be started either.
      throw new Error(`method "${config.method}" ${NOT_IMPLEMENTED_REASON}`);
  }
  const weights = { ...(config.loss.weights ?? {}) };
  if (config.method === 'fitnets') weights.feat ??= config.loss.beta;
  else if (config.loss.feature) {
    if (!inp.features) throw new Error('feature distillation: no features for this batch');
    parts = { ...parts, ...featureLoss(inp.features.student, inp.features.teacher, config.loss.feature.kind) };
    // loss.feature.weight, unless loss.weights names the part itself.
    weights.feat ??= config.loss.feature.weight;
  }
  if (config.loss.hint) {
    if (!inp.hints) throw new Error('hints: no teacher maps for this batch');
    parts = { ...parts, ...hintLoss(inp.hints.student, inp.hints.teacher) };
    weights.hint ??= config.loss.hint.weight;
  }
  return { total: totalLoss(parts, weights), parts };
}

/** Which student a part belongs to (`_s{k}` suffix; 0 otherwise). */
export function partStudent(name: string): number {
  const m = /_s(\d+)$/.exec(name);
  return m ? Number(m[1]) : 0;
}
