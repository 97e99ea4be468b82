// A sweep as a job: every point of the grid is a normal run, created and trained one after another
// and grouped under one sweep row. A run that fails is recorded and the sweep goes on; an abort
// (Ctrl-C) stops after marking the current run cancelled, keeping every finished run.
import type { RunConfig } from '../../shared/run-config.js';
import { bestOf, expandSweep, type SweepGrid, type SweepValues } from '../../shared/sweep.js';
import type { SweepRecord } from '../../shared/sweep-record.js';
import type { Store } from '../store/index.js';
import type { RunEvents } from './run-job.js';

export interface SweepPointResult {
  run: number;
  name: string;
  values: SweepValues;
  valAccuracy: number | null;
  status: 'completed' | 'failed' | 'cancelled';
  error?: string;
}

export interface SweepOutcome {
  sweep: SweepRecord;
  runs: SweepPointResult[];
  best: SweepPointResult | null;
  /** How many grid points were never started (after a cancel). */
  skipped: number;
}

export interface SweepEvents extends RunEvents {
  sweepCreated(sweep: SweepRecord, points: number): void;
  runCreated(run: number, name: string, values: SweepValues, index: number, total: number): void;
  runFinished(result: SweepPointResult): void;
}

/**
 * Validates every point first (nothing starts when one is invalid, or the dataset or teacher is
 * missing), then trains them in grid order.
 */
export async function executeSweep(
  store: Store,
  base: RunConfig,
  grid: SweepGrid,
  opts: { events: SweepEvents; signal?: AbortSignal },
): Promise<SweepOutcome> {
  const points = expandSweep(base, grid);
  const datasetId = store.datasets.requireDatasetId(/^\d+$/.test(base.dataset) ? Number(base.dataset) : base.dataset);
  const teachers = new Map<string, number>();
  for (const p of points) {
    if (p.config.teacher && !teachers.has(p.config.teacher)) teachers.set(p.config.teacher, store.teachers.requireTeacher(p.config.teacher).id);
  }
  // Loaded after validation: tfjs takes seconds to import.
  const { executeRun } = await import('./run-job.js');
  let sweep = store.sweeps.createSweep({ name: base.name, baseConfig: base, grid });
  opts.events.sweepCreated(sweep, points.length);

  const results: SweepPointResult[] = [];
  let cancelled = false;
  for (const [i, point] of points.entries()) {
    if (opts.signal?.aborted) {
      cancelled = true;
      break;
    }
    // A sweep started again next to an earlier one gets fresh run names (base/τ=2-2, …).
    const config = { ...point.config, name: store.runs.freeRunName(point.config.name) };
    const run = store.runs.createRun({
      config,
      datasetId,
      teacherId: config.teacher ? (teachers.get(config.teacher) ?? null) : null,
    });
    store.sweeps.addSweepRun(sweep.id, run.id, point.values);
    opts.events.runCreated(run.id, run.name, point.values, i, points.length);
    let result: SweepPointResult;
    try {
      const outcome = await executeRun(store, run.id, { events: opts.events, signal: opts.signal });
      result = { run: run.id, name: run.name, values: point.values, valAccuracy: outcome.valAccuracy, status: 'completed' };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const status = store.runs.requireRun(run.id).status === 'cancelled' ? 'cancelled' : 'failed';
      result = { run: run.id, name: run.name, values: point.values, valAccuracy: null, status, error: message };
      if (status === 'cancelled') cancelled = true;
    }
    results.push(result);
    opts.events.runFinished(result);
    if (cancelled) break;
  }
  const allFailed = results.length > 0 && results.every((r) => r.status === 'failed');
  sweep = store.sweeps.setSweepStatus(
    sweep.id,
    cancelled ? 'cancelled' : allFailed ? 'failed' : 'completed',
    allFailed ? (results[0]!.error ?? null) : null,
  );
  return { sweep, runs: results, best: bestOf(results.filter((r) => r.status === 'completed')), skipped: points.length - results.length };
}
