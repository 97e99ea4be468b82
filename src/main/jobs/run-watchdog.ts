// Never hang silently: the trainer's main thread writes a heartbeat into shared memory at every sign
// of progress (a step, a teacher batch, a phase change); a worker thread (run-watchdog-worker.mjs)
// watches it from outside the event loop, so a step stuck inside WASM is still caught. The limit is
// max(minimum, 20 × the median interval between steps); until steps have been timed, a larger first
// allowance covers model setup, the first decode and the teacher's soft labels.
import path from 'node:path';
import { Worker } from 'node:worker_threads';

export const WATCH_PHASES = ['starting', 'teacher soft labels', 'train', 'evaluate', 'checkpoint', 'pool predictions'] as const;
export type WatchPhase = (typeof WATCH_PHASES)[number];

/** Shared layout (float64 slots), read by the worker. */
const LAST = 0, LIMIT = 1, PHASE = 2, EPOCH = 3, STEP = 4, STOP = 5;

export interface WatchdogOptions {
  dbFile: string;
  runId: number;
  runName: string;
  /** The run's log file: the stall and the stuck stack are appended to it. */
  logFile: string;
  /** Smallest stall limit (default 60 s; $DISTILL_STALL_SECONDS overrides, for tests). */
  minLimitMs?: number;
  /** Allowance before steps have been timed (default max(5 × the minimum, 2 min)). */
  firstLimitMs?: number;
  pollMs?: number;
  beatMs?: number;
}

/** Reads $DISTILL_STALL_SECONDS: a positive number of seconds, else the default. */
export function stallMinimumMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DISTILL_STALL_SECONDS;
  if (raw === undefined || raw === '') return 60_000;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0) throw new Error(`DISTILL_STALL_SECONDS: expected a positive number of seconds, got "${raw}"`);
  return s * 1000;
}

/** The stall limit for the step intervals seen so far (ms). */
export function stallLimitMs(intervalsMs: readonly number[], minMs: number, firstMs: number): number {
  if (intervalsMs.length < 5) return Math.max(minMs, firstMs);
  const sorted = [...intervalsMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Math.max(minMs, 20 * median);
}

const WINDOW = 101;

export class RunWatchdog {
  private readonly hb: Float64Array;
  private readonly worker: Worker;
  private readonly minMs: number;
  private readonly firstMs: number;
  private intervals: number[] = [];
  private lastStepAt = 0;

  constructor(o: WatchdogOptions) {
    const sab = new SharedArrayBuffer(8 * 6);
    this.hb = new Float64Array(sab);
    this.minMs = o.minLimitMs ?? stallMinimumMs();
    // Loading tfjs, building models, the first decode: minutes on a loaded machine, whatever the minimum.
    this.firstMs = o.firstLimitMs ?? Math.max(5 * this.minMs, 120_000);
    this.hb[LIMIT] = stallLimitMs([], this.minMs, this.firstMs);
    this.hb[LAST] = Date.now();
    const file = path.join(path.dirname(new URL(import.meta.url).pathname), 'run-watchdog-worker.mjs');
    this.worker = new Worker(file, {
      workerData: {
        sab,
        dbFile: o.dbFile,
        runId: o.runId,
        runName: o.runName,
        logFile: o.logFile,
        pid: process.pid,
        pollMs: o.pollMs ?? 500,
        beatMs: o.beatMs ?? 5000,
        phases: [...WATCH_PHASES],
      },
      // The CLI's tsx loader is not needed in a plain-JS worker.
      execArgv: [],
    });
    this.worker.unref();
    this.worker.on('error', (e) => process.stderr.write(`distill: watchdog: ${e.message}\n`));
  }

  /** Entering a phase counts as progress; the step timing restarts (phases between epochs are not steps). */
  phase(name: WatchPhase, epoch = this.hb[EPOCH]!): void {
    this.hb[PHASE] = WATCH_PHASES.indexOf(name);
    this.hb[EPOCH] = epoch;
    this.lastStepAt = 0;
    this.hb[LAST] = Date.now();
  }

  /** Progress inside a phase that is not an optimizer step (a teacher batch, an evaluation batch). */
  tick(): void {
    this.hb[LAST] = Date.now();
  }

  /** An optimizer step finished (`step` counts from 1 over the run). */
  step(epoch: number, step: number): void {
    const now = Date.now();
    if (this.hb[PHASE] !== WATCH_PHASES.indexOf('train')) this.phase('train', epoch);
    if (this.lastStepAt > 0) {
      this.intervals.push(now - this.lastStepAt);
      if (this.intervals.length > WINDOW) this.intervals.shift();
      this.hb[LIMIT] = stallLimitMs(this.intervals, this.minMs, this.firstMs);
    }
    this.lastStepAt = now;
    this.hb[EPOCH] = epoch;
    this.hb[STEP] = step;
    this.hb[LAST] = now;
  }

  get limitMs(): number {
    return this.hb[LIMIT]!;
  }

  async stop(): Promise<void> {
    this.hb[STOP] = 1;
    await this.worker.terminate();
  }
}
