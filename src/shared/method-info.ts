// What each trainable method is, in one line, and which run-config fields it reads: the New-run form
// shows a method's own parameters only, and the README lists the same lines.
import type { ImplementedMethod } from './run-config.js';

export interface MethodInfo {
  summary: string;
  /** The loss.* and other method-specific fields this method reads (dotted paths). */
  params: readonly string[];
}

export const METHOD_INFO: Readonly<Record<ImplementedMethod, MethodInfo>> = {
  ce: { summary: 'plain supervised training on the labeled images (the baseline)', params: [] },
  kd: {
    summary: 'knowledge distillation (Hinton): labels plus the teacher’s softened probabilities, α·τ²·KL + (1−α)·CE',
    params: ['loss.temperature', 'loss.alpha'],
  },
  ssld: { summary: 'SSLD: the teacher’s soft labels on unlabeled images, JS divergence (or symmetric KL)', params: ['loss.temperature', 'loss.divergence'] },
  dml: {
    summary: 'deep mutual learning: students teach each other (a teacher optional), β·divergence to the peers',
    params: ['peers', 'loss.temperature', 'loss.beta', 'loss.divergence'],
  },
  dkd: {
    summary: 'decoupled KD: target-class (TCKD, weight α) and non-target-class (NCKD, weight β) parts, warmed up linearly',
    params: ['loss.temperature', 'loss.alpha', 'loss.beta', 'loss.dkdWarmupEpochs'],
  },
  dist: {
    summary: 'DIST: match the teacher’s class ranking per image (β) and image ranking per class (γ) by Pearson correlation',
    params: ['loss.temperature', 'loss.beta', 'loss.gamma'],
  },
  wsl: {
    summary: 'weighted soft labels: KD weighted per image by the student/teacher CE ratio, α·τ²·w·KL + CE',
    params: ['loss.temperature', 'loss.alpha'],
  },
  udml: {
    summary: 'DML plus a feature distance: peers also pull their pooled features together (γ)',
    params: ['peers', 'loss.temperature', 'loss.beta', 'loss.gamma', 'loss.divergence', 'loss.featureLayers'],
  },
  fitnets: {
    summary: 'FitNets hint: the student’s pooled features, through a learned linear+BN adapter (dropped at export), regress the teacher’s (β), plus CE',
    params: ['loss.beta', 'loss.featureLayers'],
  },
  rkd: {
    summary: 'relational KD: distances (β) and angles (γ) between the images of a batch, in the student’s and the teacher’s pooled features, plus CE',
    params: ['loss.beta', 'loss.gamma', 'loss.featureLayers'],
  },
  at: {
    summary: 'attention transfer: the student’s last spatial attention map (mean of squared activations) matches the teacher’s (β), plus CE',
    params: ['loss.beta', 'loss.featureLayers'],
  },
};

/** Every method-specific field any method reads. */
const ALL_PARAMS = [...new Set(Object.values(METHOD_INFO).flatMap((m) => m.params))];

/** Method-specific fields the given method does not read (hidden in the form). */
export function unusedParams(method: string): Set<string> {
  const own = new Set<string>(METHOD_INFO[method as ImplementedMethod]?.params ?? []);
  return new Set(ALL_PARAMS.filter((p) => !own.has(p)));
}
