// A run's ETA: steps left divided by the recent step rate (a window of samples, so a slow first epoch
// with cache warm-up does not distort it for long).
export interface StepSample {
  /** ms */
  t: number;
  /** Steps done at that time. */
  done: number;
}

export function etaSeconds(samples: readonly StepSample[], total: number, windowMs = 30_000): number | null {
  if (samples.length < 2 || !(total > 0)) return null;
  const last = samples[samples.length - 1]!;
  if (last.done >= total) return 0;
  // Oldest sample still inside the window, but at least two samples apart.
  let first = samples[samples.length - 2]!;
  for (let i = samples.length - 2; i >= 0; i--) {
    if (last.t - samples[i]!.t > windowMs) break;
    first = samples[i]!;
  }
  const dt = (last.t - first.t) / 1000;
  const dSteps = last.done - first.done;
  if (dt <= 0 || dSteps <= 0) return null;
  return ((total - last.done) * dt) / dSteps;
}

/**
 * Steps per epoch from epoch-scope rows (logged at step = (epoch+1)·stepsPerEpoch) when the run was
 * not started here and so no progress line carries the total.
 */
export function stepsPerEpochFrom(epochRows: readonly { step: number; epoch: number }[]): number | null {
  for (let i = epochRows.length - 1; i >= 0; i--) {
    const r = epochRows[i]!;
    if (r.step > 0) return r.step / (Math.floor(r.epoch) + 1);
  }
  return null;
}
