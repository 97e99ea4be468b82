// The run registry: config as given, status, backend report, progress and summary numbers.
import { z } from 'zod';
import { BackendReport, RunRecord, RunStatus } from '../../shared/domain.js';
import { RunConfig, StoredRunConfig, type RunConfigInput } from '../../shared/run-config.js';
import { nowIso, writeTx, type Db } from './db.js';
import { findId, requireId, type IdOrName } from './lookup.js';
import { pidAlive } from '../util/pid-alive.js';

interface RunRow {
  id: number;
  name: string;
  dataset_id: number;
  teacher_id: number | null;
  method: string;
  config_json: string;
  classes_json: string | null;
  status: string;
  backend_json: string | null;
  error: string | null;
  flags_json: string;
  epochs_done: number;
  best_val_acc: number | null;
  last_val_acc: number | null;
  img_per_sec: number | null;
  params: number | null;
  pid: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  wall_seconds: number | null;
  heartbeat_at: number | null;
}

const Strings = z.array(z.string());

/** A trainer beats every few seconds (the watchdog thread); silence this long means it is gone. */
export const HEARTBEAT_STALE_MS = 60_000;
const ACTIVE = new Set<string>(['queued', 'running', 'paused']);

/**
 * The status as it truly is: an active run whose trainer process is gone (pid not alive here, or
 * no heartbeat for HEARTBEAT_STALE_MS) reads as 'interrupted' (a kill -9, a crash, a reboot). The
 * row keeps what the trainer last wrote; `distill run --resume` takes it over.
 */
export function effectiveStatus(r: Pick<RunRow, 'status' | 'pid' | 'heartbeat_at'>, now = Date.now()): RunStatus {
  const status = RunStatus.parse(r.status);
  if (!ACTIVE.has(status) || r.pid === null) return status;
  if (!pidAlive(r.pid)) return 'interrupted';
  if (r.heartbeat_at !== null && now - r.heartbeat_at > HEARTBEAT_STALE_MS) return 'interrupted';
  return status;
}

function toRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    name: r.name,
    datasetId: r.dataset_id,
    teacherId: r.teacher_id,
    method: r.method,
    config: StoredRunConfig.parse(JSON.parse(r.config_json)),
    status: effectiveStatus(r),
    backend: r.backend_json === null ? null : BackendReport.parse(JSON.parse(r.backend_json)),
    error: r.error,
    flags: Strings.parse(JSON.parse(r.flags_json)),
    epochsDone: r.epochs_done,
    bestValAccuracy: r.best_val_acc,
    lastValAccuracy: r.last_val_acc,
    imgPerSec: r.img_per_sec,
    params: r.params,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    wallSeconds: r.wall_seconds,
  };
}

export interface NewRun {
  config: RunConfig | RunConfigInput;
  datasetId: number;
  teacherId?: number | null;
  /** The class order of the run's outputs (the dataset's classes when it started). */
  classes?: readonly string[];
  status?: RunStatus;
}

/** Creates a run named config.name; a taken name is refused (see freeRunName). */
export function createRun(db: Db, r: NewRun): RunRecord {
  const config = RunConfig.parse(r.config);
  if (db.prepare('SELECT 1 FROM runs WHERE name = ?').get(config.name)) throw new Error(`run "${config.name}" already exists`);
  const info = db
    .prepare(
      `INSERT INTO runs (name, dataset_id, teacher_id, method, config_json, classes_json, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      config.name,
      r.datasetId,
      r.teacherId ?? null,
      config.method,
      JSON.stringify(config),
      r.classes ? JSON.stringify(r.classes) : null,
      r.status ?? 'queued',
      nowIso(),
    );
  return getRun(db, Number(info.lastInsertRowid))!;
}

/** `base` if no run has that name yet, else base-2, base-3, … */
export function freeRunName(db: Db, base: string): string {
  const taken = db.prepare('SELECT 1 FROM runs WHERE name = ?');
  if (!taken.get(base)) return base;
  for (let i = 2; ; i++) if (!taken.get(`${base}-${i}`)) return `${base}-${i}`;
}

export function findRunId(db: Db, ref: IdOrName): number | null {
  return findId(db, 'runs', ref);
}

export function getRun(db: Db, ref: IdOrName): RunRecord | null {
  const id = findId(db, 'runs', ref);
  if (id === null) return null;
  return toRecord(db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow);
}

export function requireRun(db: Db, ref: IdOrName): RunRecord {
  return getRun(db, requireId(db, 'runs', ref))!;
}

export function listRuns(db: Db, opts: { datasetId?: number; status?: RunStatus } = {}): RunRecord[] {
  const where: string[] = [];
  if (opts.datasetId !== undefined) where.push('dataset_id = @ds');
  if (opts.status) where.push('status = @status');
  const sql = `SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id`;
  return (db.prepare(sql).all({ ds: opts.datasetId, status: opts.status }) as RunRow[]).map(toRecord);
}

export interface RunPatch {
  status?: RunStatus;
  backend?: BackendReport | null;
  error?: string | null;
  flags?: string[];
  epochsDone?: number;
  bestValAccuracy?: number | null;
  lastValAccuracy?: number | null;
  imgPerSec?: number | null;
  params?: number | null;
  startedAt?: string | null;
  finishedAt?: string | null;
  wallSeconds?: number | null;
  /** The trainer process working on the run (to tell a crashed run from a running one). */
  pid?: number | null;
  classes?: readonly string[] | null;
}

const COLUMN: Record<keyof RunPatch, string> = {
  status: 'status',
  backend: 'backend_json',
  error: 'error',
  flags: 'flags_json',
  epochsDone: 'epochs_done',
  bestValAccuracy: 'best_val_acc',
  lastValAccuracy: 'last_val_acc',
  imgPerSec: 'img_per_sec',
  params: 'params',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  wallSeconds: 'wall_seconds',
  pid: 'pid',
  classes: 'classes_json',
};

function columnValue(key: keyof RunPatch, patch: RunPatch): string | number | null {
  switch (key) {
    case 'status':
      return RunStatus.parse(patch.status);
    case 'backend':
      return patch.backend ? JSON.stringify(BackendReport.parse(patch.backend)) : null;
    case 'flags':
      return JSON.stringify(Strings.parse(patch.flags));
    case 'classes':
      return patch.classes ? JSON.stringify(patch.classes) : null;
    default: {
      const v = patch[key];
      return v === undefined ? null : (v as string | number | null);
    }
  }
}

export function updateRun(db: Db, ref: IdOrName, patch: RunPatch): RunRecord {
  const id = requireId(db, 'runs', ref);
  const keys = (Object.keys(patch) as (keyof RunPatch)[]).filter((k) => patch[k] !== undefined && k in COLUMN);
  if (keys.length > 0) {
    db.prepare(`UPDATE runs SET ${keys.map((k) => `${COLUMN[k]} = ?`).join(', ')} WHERE id = ?`).run(
      ...keys.map((k) => columnValue(k, patch)),
      id,
    );
  }
  return getRun(db, id)!;
}

const TERMINAL = new Set<RunStatus>(['completed', 'failed', 'cancelled', 'stalled', 'interrupted']);

/** The trainer's sign of life (epoch ms), written by its watchdog thread every few seconds. */
export function heartbeatRun(db: Db, id: number, pid: number, at = Date.now()): void {
  db.prepare('UPDATE runs SET heartbeat_at = ?, pid = ? WHERE id = ?').run(at, pid, id);
}

/** Moves a run to a status, stamping startedAt on first start and finishedAt on a terminal status. */
export function setRunStatus(db: Db, ref: IdOrName, status: RunStatus, error?: string | null): RunRecord {
  const id = requireId(db, 'runs', ref);
  return writeTx(db, () => {
    const cur = getRun(db, id)!;
    const patch: RunPatch = { status };
    if (error !== undefined) patch.error = error;
    if (status === 'running') {
      if (!cur.startedAt) patch.startedAt = nowIso();
      patch.finishedAt = null;
    }
    if (TERMINAL.has(status)) patch.finishedAt = nowIso();
    return updateRun(db, id, patch);
  });
}

/** Adds a flag (e.g. "loss-stuck-at-chance") once. */
export function addRunFlag(db: Db, ref: IdOrName, flag: string): RunRecord {
  const id = requireId(db, 'runs', ref);
  return writeTx(db, () => {
    const cur = getRun(db, id)!;
    return cur.flags.includes(flag) ? cur : updateRun(db, id, { flags: [...cur.flags, flag] });
  });
}

export function getRunClasses(db: Db, ref: IdOrName): string[] | null {
  const id = requireId(db, 'runs', ref);
  const row = db.prepare('SELECT classes_json FROM runs WHERE id = ?').get(id) as { classes_json: string | null };
  return row.classes_json === null ? null : Strings.parse(JSON.parse(row.classes_json));
}

export function getRunPid(db: Db, ref: IdOrName): number | null {
  const id = requireId(db, 'runs', ref);
  return (db.prepare('SELECT pid FROM runs WHERE id = ?').get(id) as { pid: number | null }).pid;
}

export function removeRun(db: Db, ref: IdOrName): boolean {
  const id = findId(db, 'runs', ref);
  return id !== null && db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
}
