// Logged values of a run: per step (loss parts, lr, img/s) and per epoch (val accuracy, JS, KL).
import type { MetricRow } from '../../shared/domain.js';
import { writeTx, type Db } from './db.js';

export interface MetricInput {
  /** Which student (0 = main, 1.. = DML peers). Default 0. */
  model?: number;
  scope: 'step' | 'epoch';
  step: number;
  epoch: number;
  name: string;
  value: number;
  /** Unix ms. Default now. */
  time?: number;
}

/**
 * Appends rows in one transaction and returns how many were stored. Non-finite values are left out:
 * SQLite would store NaN as NULL and the records' schema has no NaN; a diverged loss is reported by the
 * run's error instead.
 */
export function insertMetrics(db: Db, runId: number, rows: readonly MetricInput[]): number {
  const stmt = db.prepare('INSERT INTO metrics (run_id, model, scope, step, epoch, name, value, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const now = Date.now();
  return writeTx(db, () => {
    let n = 0;
    for (const r of rows) {
      if (!Number.isFinite(r.value)) continue;
      stmt.run(runId, r.model ?? 0, r.scope, Math.trunc(r.step), r.epoch, r.name, r.value, r.time ?? now);
      n++;
    }
    return n;
  });
}

export interface MetricQuery {
  /** Only rows with a larger id (live charts poll with the last id they have). */
  afterId?: number;
  scope?: 'step' | 'epoch';
  name?: string;
  model?: number;
  limit?: number;
}

export function getMetrics(db: Db, runId: number, q: MetricQuery = {}): MetricRow[] {
  const where = ['run_id = @run', 'id > @after'];
  if (q.scope) where.push('scope = @scope');
  if (q.name) where.push('name = @name');
  if (q.model !== undefined) where.push('model = @model');
  const limit = q.limit !== undefined ? `LIMIT ${Math.max(1, Math.floor(q.limit))}` : '';
  return db
    .prepare(
      `SELECT id, run_id AS runId, model, scope, step, epoch, name, value, time FROM metrics
       WHERE ${where.join(' AND ')} ORDER BY id ${limit}`,
    )
    .all({ run: runId, after: q.afterId ?? 0, scope: q.scope, name: q.name, model: q.model }) as MetricRow[];
}

/**
 * Deletes what was logged after a checkpoint at `step` (both scopes), so a resumed run logs those
 * steps and epochs again without counting any twice.
 */
export function deleteMetricsAfterStep(db: Db, runId: number, step: number): number {
  return writeTx(db, () => db.prepare('DELETE FROM metrics WHERE run_id = ? AND step > ?').run(runId, step).changes);
}

/** The names logged for a run, per scope (the Run page builds one chart per name). */
export function metricNames(db: Db, runId: number): { scope: 'step' | 'epoch'; name: string; model: number }[] {
  return db
    .prepare('SELECT DISTINCT scope, name, model FROM metrics WHERE run_id = ? ORDER BY scope, name, model')
    .all(runId) as { scope: 'step' | 'epoch'; name: string; model: number }[];
}
