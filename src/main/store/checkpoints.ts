// Checkpoint folders written by the trainer (atomically), one or more per epoch.
import type { CheckpointRecord } from '../../shared/domain.js';
import { nowIso, writeTx, type Db } from './db.js';

const SELECT = 'SELECT id, run_id AS runId, epoch, step, dir, val_accuracy AS valAccuracy, created_at AS createdAt FROM checkpoints';

export function addCheckpoint(db: Db, c: Omit<CheckpointRecord, 'id' | 'createdAt'>): CheckpointRecord {
  const info = db
    .prepare('INSERT INTO checkpoints (run_id, epoch, step, dir, val_accuracy, created_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(c.runId, c.epoch, c.step, c.dir, c.valAccuracy, nowIso());
  return getCheckpoint(db, Number(info.lastInsertRowid))!;
}

export function getCheckpoint(db: Db, id: number): CheckpointRecord | null {
  return (db.prepare(`${SELECT} WHERE id = ?`).get(id) as CheckpointRecord | undefined) ?? null;
}

export function listCheckpoints(db: Db, runId: number): CheckpointRecord[] {
  return db.prepare(`${SELECT} WHERE run_id = ? ORDER BY epoch, step, id`).all(runId) as CheckpointRecord[];
}

/** The one to resume from. */
export function lastCheckpoint(db: Db, runId: number): CheckpointRecord | null {
  return (db.prepare(`${SELECT} WHERE run_id = ? ORDER BY epoch DESC, step DESC, id DESC LIMIT 1`).get(runId) as CheckpointRecord | undefined) ?? null;
}

/** Highest val accuracy, the earliest on ties. */
export function bestCheckpoint(db: Db, runId: number): CheckpointRecord | null {
  return (
    (db
      .prepare(`${SELECT} WHERE run_id = ? AND val_accuracy IS NOT NULL ORDER BY val_accuracy DESC, epoch, step, id LIMIT 1`)
      .get(runId) as CheckpointRecord | undefined) ?? null
  );
}

/** Drops records past an epoch (a resumed run rewrites them); returns their folders for the caller to delete. */
export function deleteCheckpointsAfter(db: Db, runId: number, epoch: number): string[] {
  return writeTx(db, () => {
    const dirs = (db.prepare('SELECT dir FROM checkpoints WHERE run_id = ? AND epoch > ?').all(runId, epoch) as { dir: string }[]).map((r) => r.dir);
    db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND epoch > ?').run(runId, epoch);
    return dirs;
  });
}

export function removeCheckpoint(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM checkpoints WHERE id = ?').run(id).changes > 0;
}
