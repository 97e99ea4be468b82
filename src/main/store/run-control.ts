// Pause / cancel requests for a run, set by the services (or any process) and polled by the trainer.
import type { Db } from './db.js';
import { requireId, type IdOrName } from './lookup.js';

export type RunControl = 'pause' | 'cancel' | null;

export function setRunControl(db: Db, ref: IdOrName, control: RunControl): void {
  const id = requireId(db, 'runs', ref);
  db.prepare('UPDATE runs SET control = ? WHERE id = ?').run(control, id);
}

export function getRunControl(db: Db, runId: number): RunControl {
  const row = db.prepare('SELECT control FROM runs WHERE id = ?').get(runId) as { control: RunControl } | undefined;
  return row?.control ?? null;
}
