// Live runs: while a run is active, poll the metrics table for rows after the last seen id and the run
// row for changes, and push them as `run.metrics` / `run.status`. Runs started elsewhere (a `distill
// run` in a terminal) are followed the same way. A run whose trainer process is gone is marked failed.
import type { RunRecord } from '../../shared/domain.js';
import type { ServiceContext } from './context.js';
import { pidAlive } from '../util/pid-alive.js';

const ACTIVE = new Set(['queued', 'running', 'paused']);
const MAX_ROWS_PER_EVENT = 2000;

export interface RunMonitorOptions {
  pollMs?: number;
  /** How often runs not started here get their trainer pid checked. */
  pidCheckMs?: number;
}

export class RunMonitor {
  private readonly lastMetricId = new Map<number, number>();
  private readonly lastState = new Map<number, string>();
  /** Runs started here: followed from their first metric even before the status says running. */
  private readonly watched = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private lastPidCheck = 0;
  private readonly pollMs: number;
  private readonly pidCheckMs: number;

  constructor(
    private readonly ctx: ServiceContext,
    opts: RunMonitorOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 500;
    this.pidCheckMs = opts.pidCheckMs ?? 5000;
  }

  start(): void {
    if (this.timer) return;
    // Runs already active when we start: only new rows are news.
    for (const id of this.activeIds()) this.lastMetricId.set(id, this.maxMetricId(id));
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Follow a run started here from its very first metric row. */
  watch(runId: number): void {
    this.watched.add(runId);
    if (!this.lastMetricId.has(runId)) this.lastMetricId.set(runId, 0);
  }

  unwatch(runId: number): void {
    this.watched.delete(runId);
  }

  /** One round: new metric rows and status changes of every active run. Never throws. */
  poll(): void {
    try {
      const ids = new Set([...this.activeIds(), ...this.watched]);
      for (const id of this.lastMetricId.keys()) ids.add(id); // one last round for runs that just finished
      const checkPids = Date.now() - this.lastPidCheck >= this.pidCheckMs;
      if (checkPids) this.lastPidCheck = Date.now();
      for (const id of ids) this.pollRun(id, checkPids);
    } catch (e) {
      process.stderr.write(`distill: run monitor: ${(e as Error).message}\n`);
    }
  }

  private pollRun(id: number, checkPids: boolean): void {
    let run = this.ctx.store.runs.getRun(id);
    if (!run) {
      this.forget(id);
      return;
    }
    if (checkPids && ACTIVE.has(run.status) && !this.ctx.jobs.jobForRun(id)) run = this.checkTrainerAlive(run);

    // A run that became active after the monitor started is news from its first row (runs already
    // active at start were set to their last row in start()); starting at its newest row would drop
    // the rows written before this poll first saw it.
    const after = this.lastMetricId.get(id) ?? 0;
    const rows = this.ctx.store.metrics.getMetrics(id, { afterId: after });
    if (rows.length > 0) {
      this.lastMetricId.set(id, rows[rows.length - 1]!.id);
      for (let i = 0; i < rows.length; i += MAX_ROWS_PER_EVENT) {
        this.ctx.emit('run.metrics', { runId: id, rows: rows.slice(i, i + MAX_ROWS_PER_EVENT) });
      }
    } else if (!this.lastMetricId.has(id)) {
      this.lastMetricId.set(id, after);
    }
    this.emitStatusIfChanged(run);
    if (!ACTIVE.has(run.status) && !this.watched.has(id)) this.forget(id);
  }

  /** Push the run's record if anything shown about it changed (always for a forced one). */
  emitStatusIfChanged(run: RunRecord, force = false): void {
    const key = JSON.stringify([run.status, run.error, run.epochsDone, run.bestValAccuracy, run.lastValAccuracy, run.imgPerSec, run.flags, run.backend?.active, run.finishedAt]);
    if (!force && this.lastState.get(run.id) === key) return;
    this.lastState.set(run.id, key);
    this.ctx.emit('run.status', run);
  }

  private checkTrainerAlive(run: RunRecord): RunRecord {
    const pid = this.ctx.store.runs.getRunPid(run.id);
    if (pid === null || pidAlive(pid)) return run;
    // Re-read: the trainer may have finished between our reads.
    const now = this.ctx.store.runs.getRun(run.id)!;
    if (!ACTIVE.has(now.status)) return now;
    return this.ctx.store.runs.setRunStatus(run.id, 'failed', `the trainer process (pid ${pid}) stopped without finishing the run; resume it to continue from the last checkpoint`);
  }

  private forget(id: number): void {
    this.lastMetricId.delete(id);
    this.lastState.delete(id);
  }

  private activeIds(): number[] {
    const rows = this.ctx.store.db.prepare(`SELECT id FROM runs WHERE status IN ('queued','running','paused')`).all() as { id: number }[];
    return rows.map((r) => r.id);
  }

  private maxMetricId(runId: number): number {
    const row = this.ctx.store.db.prepare('SELECT MAX(id) AS id FROM metrics WHERE run_id = ?').get(runId) as { id: number | null };
    return row.id ?? 0;
  }
}
