// Long jobs: CLI child processes (teacher training, mining, runs, export, eval) and in-process async
// jobs (dataset import). Tracks each as a JobInfo, parses the CLI's JSON lines and reports changes.
// A child that crashes or is killed fails its job; nothing a child does can throw into the server.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobInfo } from '../../shared/api.js';
import { parseCliLine, stderrMessage, type ProgressLine } from './cli-protocol.js';
import type { StepSample } from './eta.js';

export type JobKind = JobInfo['kind'];

/** Where the `distill` entry lives: bin/distill.js at the repository root. */
export const DEFAULT_CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/distill.js');

export interface JobRunnerOptions {
  home: string;
  /** Script run as the CLI (tests pass a fake). */
  cli?: string;
  /** Node executable; Electron passes a system node so native modules match. */
  nodePath?: string;
  env?: NodeJS.ProcessEnv;
  /** Minimum ms between two progress events of one job (status changes are always reported). */
  progressIntervalMs?: number;
  /** After a cancel, how long a child gets to stop on SIGINT before SIGKILL. */
  killGraceMs?: number;
}

export interface SpawnHooks {
  /** Not listed in jobs.list and not reported as job.progress (internal probes). */
  untracked?: boolean;
  /** `{"type":"run","run":id}`: the run row exists. */
  onRun?: (runId: number) => void;
  onProgress?: (line: ProgressLine) => void;
  /** After the job settled (done, failed or cancelled). */
  onExit?: (info: JobInfo, detail: { code: number | null; signal: NodeJS.Signals | null; stderr: string }) => void;
}

export interface InProcessContext {
  progress(done: number, total: number, message?: string): void;
  signal: AbortSignal;
}

interface JobState {
  info: JobInfo;
  child?: ChildProcess;
  abort?: AbortController;
  cancelRequested: boolean;
  lastEmit: number;
  pendingEmit?: NodeJS.Timeout;
  lastProgress?: ProgressLine;
  /** (time, done) of the current phase's progress lines, for ETA. */
  samples: StepSample[];
  runId?: number;
  untracked?: boolean;
  settled: Promise<JobInfo>;
}

const STDERR_KEEP = 64 * 1024;
const FINISHED_KEEP = 200;
const MAX_SAMPLES = 2000;

export class JobRunner extends EventEmitter<{ job: [JobInfo] }> {
  private readonly jobs = new Map<string, JobState>();
  private readonly hidden = new Map<string, JobState>();
  private readonly cli: string;
  private readonly nodePath: string;
  private readonly progressIntervalMs: number;
  private readonly killGraceMs: number;

  constructor(private readonly opts: JobRunnerOptions) {
    super();
    this.cli = opts.cli ?? DEFAULT_CLI;
    this.nodePath = opts.nodePath ?? process.execPath;
    this.progressIntervalMs = opts.progressIntervalMs ?? 100;
    this.killGraceMs = opts.killGraceMs ?? 15_000;
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => ({ ...j.info }));
  }

  get(id: string): JobInfo | undefined {
    const j = this.jobs.get(id);
    return j ? { ...j.info } : undefined;
  }

  /** Resolves when the job settles (never rejects). */
  wait(id: string): Promise<JobInfo> {
    const j = this.jobs.get(id) ?? this.hidden.get(id);
    if (!j) return Promise.reject(new Error(`no job ${id}`));
    return j.settled;
  }

  lastProgress(id: string): ProgressLine | undefined {
    return this.jobs.get(id)?.lastProgress;
  }

  /** Progress samples of the job's current phase (oldest first). */
  samples(id: string): readonly StepSample[] {
    return this.jobs.get(id)?.samples ?? [];
  }

  /** The live job driving a run, if this runner started it. */
  jobForRun(runId: number): JobInfo | undefined {
    for (const j of this.jobs.values()) if (j.runId === runId && j.info.status === 'running') return { ...j.info };
    return undefined;
  }

  running(): JobInfo[] {
    return this.list().filter((j) => j.status === 'running');
  }

  /** `node <cli> <args…> --json --home <home>` as a tracked job. */
  spawnCli(kind: JobKind, args: string[], hooks: SpawnHooks = {}): JobInfo {
    const id = randomUUID();
    const argv = [this.cli, ...args, '--json', '--home', this.opts.home];
    let resolveSettled!: (info: JobInfo) => void;
    const state: JobState = {
      info: { id, kind, status: 'running', progress: 0, message: 'starting' },
      cancelRequested: false,
      lastEmit: 0,
      samples: [],
      untracked: hooks.untracked,
      settled: new Promise((r) => (resolveSettled = r)),
    };
    if (hooks.untracked) this.hidden.set(id, state);
    else this.jobs.set(id, state);
    this.prune();

    let child: ChildProcess;
    try {
      child = spawn(this.nodePath, argv, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...this.opts.env },
        windowsHide: true,
      });
    } catch (e) {
      this.finish(state, 'failed', `could not start ${kind}: ${(e as Error).message}`);
      resolveSettled(state.info);
      return { ...state.info };
    }
    state.child = child;

    let stderr = '';
    let lastObject: Record<string, unknown> | undefined;
    let errorLine: string | undefined;
    let buf = '';
    const onLine = (raw: string) => {
      const parsed = parseCliLine(raw);
      if (!parsed) return;
      switch (parsed.kind) {
        case 'progress': {
          const p = parsed.line;
          if (state.lastProgress && (state.lastProgress.phase !== p.phase || state.lastProgress.total !== p.total)) state.samples = [];
          state.lastProgress = p;
          state.samples.push({ t: Date.now(), done: p.done });
          if (state.samples.length > MAX_SAMPLES) state.samples.splice(0, state.samples.length - MAX_SAMPLES);
          const frac = p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : 0;
          state.info.progress = frac;
          state.info.message = p.message ?? `${p.phase} ${p.done}/${p.total}`;
          this.emitThrottled(state);
          safe(() => hooks.onProgress?.(p));
          break;
        }
        case 'run':
          state.runId = parsed.run;
          safe(() => hooks.onRun?.(parsed.run));
          break;
        case 'error':
          errorLine = parsed.message;
          break;
        case 'object':
          lastObject = parsed.value;
          break;
        case 'text':
          break;
      }
    };
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        onLine(line);
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });

    let exited = false;
    const settle = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (exited) return;
      exited = true;
      if (buf) onLine(buf);
      buf = '';
      if (spawnError) {
        this.finish(state, 'failed', `could not start ${kind}: ${spawnError.message}`);
      } else if (code === 0 && !errorLine) {
        state.info.result = lastObject;
        this.finish(state, 'done', 'done', 1);
      } else if (state.cancelRequested) {
        this.finish(state, 'cancelled', 'cancelled');
      } else {
        const why =
          errorLine ??
          stderrMessage(stderr) ??
          (signal ? `${kind} process killed by ${signal}` : `${kind} process exited with code ${code}`);
        this.finish(state, 'failed', why);
      }
      safe(() => hooks.onExit?.({ ...state.info }, { code, signal, stderr }));
      resolveSettled({ ...state.info });
    };
    child.on('error', (e) => settle(null, null, e));
    child.on('close', (code, signal) => settle(code, signal));
    this.emitNow(state);
    return { ...state.info };
  }

  /** An async job run in this process (dataset import), reported like a child job. */
  track(kind: JobKind, work: (ctx: InProcessContext) => Promise<unknown>): JobInfo {
    const id = randomUUID();
    let resolveSettled!: (info: JobInfo) => void;
    const abort = new AbortController();
    const state: JobState = {
      info: { id, kind, status: 'running', progress: 0, message: 'starting' },
      abort,
      cancelRequested: false,
      lastEmit: 0,
      samples: [],
      settled: new Promise((r) => (resolveSettled = r)),
    };
    this.jobs.set(id, state);
    this.prune();
    this.emitNow(state);
    const ctx: InProcessContext = {
      signal: abort.signal,
      progress: (done, total, message) => {
        if (state.info.status !== 'running') return;
        state.info.progress = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
        state.info.message = message ?? `${done}/${total}`;
        this.emitThrottled(state);
      },
    };
    // Deferred so that the caller gets the JobInfo before any work (or failure) happens.
    setImmediate(() => {
      Promise.resolve()
        .then(() => work(ctx))
        .then(
          (result) => {
            state.info.result = result;
            this.finish(state, 'done', 'done', 1);
          },
          (e: unknown) => {
            if (state.cancelRequested) this.finish(state, 'cancelled', 'cancelled');
            else this.finish(state, 'failed', e instanceof Error ? e.message : String(e));
          },
        )
        .finally(() => resolveSettled({ ...state.info }));
    });
    return { ...state.info };
  }

  /** SIGINT a child (the CLI cancels cleanly on it), SIGKILL after a grace period; abort in-process work. */
  cancel(id: string): boolean {
    const state = this.jobs.get(id) ?? this.hidden.get(id);
    if (!state || state.info.status !== 'running') return false;
    state.cancelRequested = true;
    if (state.abort) state.abort.abort();
    const child = state.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const t = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, this.killGraceMs);
      t.unref();
    }
    return true;
  }

  /** Cancel everything still running and wait for it to settle. */
  async shutdown(): Promise<void> {
    const live = [...this.jobs.values(), ...this.hidden.values()].filter((j) => j.info.status === 'running');
    for (const j of live) this.cancel(j.info.id);
    await Promise.all(live.map((j) => j.settled));
  }

  private finish(state: JobState, status: JobInfo['status'], message: string, progress?: number): void {
    if (state.info.status !== 'running') return;
    state.info.status = status;
    state.info.message = message;
    if (progress !== undefined) state.info.progress = progress;
    this.emitNow(state);
  }

  private emitThrottled(state: JobState): void {
    const now = Date.now();
    const wait = state.lastEmit + this.progressIntervalMs - now;
    if (wait <= 0) return this.emitNow(state);
    if (!state.pendingEmit) {
      state.pendingEmit = setTimeout(() => this.emitNow(state), wait);
      state.pendingEmit.unref();
    }
  }

  private emitNow(state: JobState): void {
    if (state.pendingEmit) clearTimeout(state.pendingEmit);
    state.pendingEmit = undefined;
    if (state.untracked) return;
    state.lastEmit = Date.now();
    const info = { ...state.info };
    safe(() => this.emit('job', info));
  }

  /** Keep memory bounded in a long-lived server: forget the oldest finished jobs. */
  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.info.status !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - FINISHED_KEEP))) this.jobs.delete(j.info.id);
    const hiddenDone = [...this.hidden.values()].filter((j) => j.info.status !== 'running');
    for (const j of hiddenDone.slice(0, Math.max(0, hiddenDone.length - 20))) this.hidden.delete(j.info.id);
  }
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    process.stderr.write(`distill: listener failed: ${(e as Error).message}\n`);
  }
}
