// Sweeps: the group row, and which runs belong to it with the values each was given.
import { RunStatus } from '../../shared/domain.js';
import type { RunConfig } from '../../shared/run-config.js';
import { bestOf, SweepGrid, SweepValues } from '../../shared/sweep.js';
import { SweepRecord, SweepStatus, type SweepDetail, type SweepRun } from '../../shared/sweep-record.js';
import { StoredRunConfig } from '../../shared/run-config.js';
import { NotFoundError } from './lookup.js';
import { nowIso, writeTx, type Db } from './db.js';

interface SweepRow {
  id: number;
  name: string;
  base_config_json: string;
  grid_json: string;
  status: string;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

function toRecord(r: SweepRow): SweepRecord {
  return SweepRecord.parse({
    id: r.id,
    name: r.name,
    baseConfig: StoredRunConfig.parse(JSON.parse(r.base_config_json)),
    grid: SweepGrid.parse(JSON.parse(r.grid_json)),
    status: r.status,
    error: r.error,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  });
}

export function createSweep(db: Db, s: { name: string; baseConfig: RunConfig; grid: SweepGrid }): SweepRecord {
  const info = db
    .prepare(`INSERT INTO sweeps (name, base_config_json, grid_json, status, created_at) VALUES (?, ?, ?, 'running', ?)`)
    .run(s.name, JSON.stringify(s.baseConfig), JSON.stringify(SweepGrid.parse(s.grid)), nowIso());
  return getSweep(db, Number(info.lastInsertRowid))!;
}

export function getSweep(db: Db, id: number): SweepRecord | null {
  const row = db.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as SweepRow | undefined;
  return row ? toRecord(row) : null;
}

export function requireSweep(db: Db, id: number): SweepRecord {
  const s = getSweep(db, id);
  if (!s) throw new NotFoundError('sweep', id);
  return s;
}

export function listSweeps(db: Db): SweepRecord[] {
  return (db.prepare('SELECT * FROM sweeps ORDER BY id').all() as SweepRow[]).map(toRecord);
}

/** Marks a run as one point of the sweep. */
export function addSweepRun(db: Db, sweepId: number, runId: number, values: SweepValues): void {
  const changed = db
    .prepare('UPDATE runs SET sweep_id = ?, sweep_values_json = ? WHERE id = ?')
    .run(sweepId, JSON.stringify(SweepValues.parse(values)), runId).changes;
  if (changed === 0) throw new NotFoundError('run', runId);
}

export function setSweepStatus(db: Db, id: number, status: SweepStatus, error: string | null = null): SweepRecord {
  writeTx(db, () => {
    const finished = status === 'running' ? null : nowIso();
    db.prepare('UPDATE sweeps SET status = ?, error = ?, finished_at = ? WHERE id = ?').run(SweepStatus.parse(status), error, finished, id);
  });
  return requireSweep(db, id);
}

/** The sweep, its runs in the order they were started, and the best one. */
export function sweepDetail(db: Db, id: number): SweepDetail {
  const sweep = requireSweep(db, id);
  const rows = db
    .prepare(`SELECT id, name, status, sweep_values_json, last_val_acc, best_val_acc FROM runs WHERE sweep_id = ? ORDER BY id`)
    .all(id) as { id: number; name: string; status: string; sweep_values_json: string | null; last_val_acc: number | null; best_val_acc: number | null }[];
  const runs: SweepRun[] = rows.map((r) => ({
    run: r.id,
    name: r.name,
    status: RunStatus.parse(r.status),
    values: SweepValues.parse(JSON.parse(r.sweep_values_json ?? '{}')),
    valAccuracy: r.last_val_acc,
    bestValAccuracy: r.best_val_acc,
  }));
  return { sweep, runs, best: bestOf(runs) };
}

/** The sweep a run belongs to, if any. */
export function sweepOfRun(db: Db, runId: number): number | null {
  const row = db.prepare('SELECT sweep_id FROM runs WHERE id = ?').get(runId) as { sweep_id: number | null } | undefined;
  return row?.sweep_id ?? null;
}
