// Learning rate per step: linear warmup, then cosine / step / constant decay (PaddleClas-style).
export type ScheduleName = 'cosine' | 'step' | 'constant';

export interface ScheduleSpec {
  name: ScheduleName;
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
}

export function learningRateAt(spec: ScheduleSpec, step: number): number {
  const { baseLr, warmupSteps, totalSteps } = spec;
  if (warmupSteps > 0 && step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  const span = Math.max(1, totalSteps - warmupSteps);
  const t = Math.min(1, Math.max(0, (step - warmupSteps) / span));
  switch (spec.name) {
    case 'cosine':
      return 0.5 * baseLr * (1 + Math.cos(Math.PI * t));
    case 'step':
      // ×0.1 at 1/3 and 2/3 of training.
      return baseLr * 0.1 ** Math.min(2, Math.floor(t * 3));
    case 'constant':
      return baseLr;
  }
}
