// Run control across processes (docs/TEAM.md): services write runs.control (null | 'pause' | 'cancel'),
// the trainer polls it between steps. Also: is a run's trainer process still alive?
import type { Store } from '../store/index.js';

export type RunControl = null | 'pause' | 'cancel';

export function setRunControl(store: Store, runId: number, control: RunControl): void {
  store.db.prepare('UPDATE runs SET control = ? WHERE id = ?').run(control, runId);
}

export function getRunControl(store: Store, runId: number): RunControl {
  const row = store.db.prepare('SELECT control FROM runs WHERE id = ?').get(runId) as { control: string | null } | undefined;
  const c = row?.control ?? null;
  return c === 'pause' || c === 'cancel' ? c : null;
}

/** True when a process with this pid exists (EPERM: exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
