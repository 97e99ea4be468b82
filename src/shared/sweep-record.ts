// A stored sweep and its runs, as the store returns them and the API carries them.
import { z } from 'zod';
import { RunStatus } from './domain.js';
import { StoredRunConfig } from './run-config.js';
import { SweepGrid, SweepValues } from './sweep.js';

export const SWEEP_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export const SweepStatus = z.enum(SWEEP_STATUSES);
export type SweepStatus = z.infer<typeof SweepStatus>;

export const SweepRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  baseConfig: StoredRunConfig,
  grid: SweepGrid,
  status: SweepStatus,
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type SweepRecord = z.infer<typeof SweepRecord>;

export const SweepRun = z.object({
  run: z.number().int(),
  name: z.string(),
  status: RunStatus,
  values: SweepValues,
  /** Val accuracy after the last epoch (what `distill run` reports). */
  valAccuracy: z.number().nullable(),
  bestValAccuracy: z.number().nullable(),
});
export type SweepRun = z.infer<typeof SweepRun>;

export const SweepDetail = z.object({
  sweep: SweepRecord,
  runs: z.array(SweepRun),
  /** The run with the highest val accuracy; null while none has one. */
  best: SweepRun.nullable(),
});
export type SweepDetail = z.infer<typeof SweepDetail>;
