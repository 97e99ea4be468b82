// The New-run page's sweep entry: which fields can be swept for a method, and the typed rows as a
// validated grid (or the first problem, in words). Pure: no React, no DOM.
import { METHOD_INFO } from '../../shared/method-info.js';
import type { RunConfigInput } from '../../shared/run-config.js';
import { expandSweep, parseGridFlag, SweepGrid } from '../../shared/sweep.js';

const ALWAYS = ['optim.lr', 'optim.weightDecay', 'epochs', 'seed'];
const NUMERIC_LOSS = new Set(['loss.temperature', 'loss.alpha', 'loss.beta', 'loss.gamma', 'loss.dkdWarmupEpochs']);

/** The method's numeric parameters first, then the optimizer's and the run's. */
export function sweepableFields(method: string): string[] {
  const own = (METHOD_INFO[method as keyof typeof METHOD_INFO]?.params ?? []).filter((p) => NUMERIC_LOSS.has(p));
  return [...own, ...ALWAYS];
}

export interface SweepRow {
  path: string;
  values: string;
}

export type SweepForm = { ok: true; grid: SweepGrid; runs: number } | { ok: false; error: string };

/** Rows → a grid checked against the base config (every point must be a valid run). */
export function sweepFromRows(base: RunConfigInput, rows: readonly SweepRow[]): SweepForm {
  const filled = rows.filter((r) => r.values.trim() !== '');
  if (filled.length === 0) return { ok: false, error: 'enter the values to try, e.g. 2, 4, 6' };
  try {
    const parsed = SweepGrid.safeParse(filled.map((r) => parseGridFlag(`${r.path}=${r.values.trim()}`)));
    if (!parsed.success) return { ok: false, error: parsed.error.issues[0]!.message };
    const points = expandSweep(base, parsed.data);
    return { ok: true, grid: parsed.data, runs: points.length };
  } catch (err) {
    return { ok: false, error: (err as Error).message.replace(/^--grid /, '') };
  }
}
