// Picks the fastest tfjs backend that works here and says why the better ones did not.
// Order: tfjs-node-gpu (CUDA) → tfjs-node (CPU) → wasm (XNNPACK, SIMD, threads) → cpu (pure JS).
// DISTILL_BACKEND=tensorflow|wasm|cpu (or opts.force) allows only that kind; if it cannot start,
// initBackend throws instead of silently falling back.
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { BackendReport } from '../../../shared/domain.js';
import { internalsUsable, versionMismatch, wasmModuleOf } from '../compat/index.js';
import { registerWasmKernels } from '../wasm-kernels/register.js';
import { prepareThreadedWasm, settleWorkers, wasmDistDir } from './wasm-threads.js';
import { spinPatchedThreadedWasm, THREADED_WASM } from './wasm-spin-patch.js';
import { installWasmHeapGuard } from '../compat/wasm-heap-guard.js';
import { installHeapChecker } from '../compat/heap-check.js';
import type { WasmBackend } from '../wasm-kernels/util.js';
import { relaxedSimd, type RelaxedSimdState } from '../wasm-kernels/relaxed-simd.js';

export type BackendKind = 'tensorflow' | 'wasm' | 'cpu';
/** Candidate names, best first; `active` in the report is one of these. */
export const CANDIDATES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type CandidateName = (typeof CANDIDATES)[number];

export interface InitBackendOptions {
  /** Only this kind; overrides DISTILL_BACKEND. */
  force?: BackendKind;
  /** WASM threads; default DISTILL_THREADS, else the number of CPUs (at most 8). */
  threads?: number;
}

type Candidate = BackendReport['candidates'][number];

let current: Promise<BackendReport> | null = null;
let report: BackendReport | null = null;

/** Initialises once per process; later calls return the first call's report whatever they ask. */
export function initBackend(opts: InitBackendOptions = {}): Promise<BackendReport> {
  current ??= select(opts).then(
    (r) => (report = r),
    (err: unknown) => {
      current = null; // a failed forced init may be retried with other options
      throw err;
    },
  );
  return current;
}

/** The report of the initialised backend, or null before initBackend has finished. */
export function backendReport(): BackendReport | null {
  return report;
}

function parseForce(opts: InitBackendOptions): { kind: BackendKind | null; by: string | null } {
  if (opts.force) return { kind: opts.force, by: 'initBackend({ force })' };
  const env = process.env.DISTILL_BACKEND?.trim();
  if (!env) return { kind: null, by: null };
  if (env !== 'tensorflow' && env !== 'wasm' && env !== 'cpu') {
    throw new Error(`DISTILL_BACKEND must be tensorflow, wasm or cpu (got "${env}")`);
  }
  return { kind: env, by: `DISTILL_BACKEND=${env}` };
}

function wantedThreads(opts: InitBackendOptions): number {
  const env = process.env.DISTILL_THREADS;
  const raw = opts.threads ?? (env ? Number(env) : (os.availableParallelism?.() ?? os.cpus().length));
  if (!Number.isInteger(raw) || raw < 1) throw new Error(`thread count must be a positive integer (got ${String(raw)})`);
  // tfjs's threaded build pre-creates 8 pthread workers; more is not possible.
  return Math.min(raw, 8);
}

async function select(opts: InitBackendOptions): Promise<BackendReport> {
  const force = parseForce(opts);
  const threads = wantedThreads(opts);
  const candidates: Candidate[] = [];
  const skip = (name: CandidateName, reason: string, available = false) =>
    candidates.push({ name, available, reason });
  const forcedReason = `not allowed: forced by ${force.by ?? ''}`;
  const allowed = (kind: BackendKind) => force.kind === null || force.kind === kind;
  // The active candidate's reason is null, or a note on how it runs below its best (e.g. 1 thread).
  const done = (active: CandidateName, t: number, simd: boolean | null, note: string | null = null, relaxed: RelaxedSimdState | null = null): BackendReport => {
    candidates.push({ name: active, available: true, reason: note });
    // Candidates below the active one were not tried: say so, so every row has its reason.
    for (const name of CANDIDATES.slice(CANDIDATES.indexOf(active) + 1)) {
      if (!candidates.some((c) => c.name === name)) {
        skip(name, allowed(kindOf(name)) ? `not needed: ${active} is faster` : forcedReason, true);
      }
    }
    candidates.sort((a, b) => CANDIDATES.indexOf(a.name as CandidateName) - CANDIDATES.indexOf(b.name as CandidateName));
    return BackendReport.parse({ active, threads: t, simd, relaxedSimd: relaxed, forcedBy: force.by, candidates });
  };

  // 1–2. libtensorflow bindings. Their install downloads libtensorflow, which often fails; then
  // the package is simply absent.
  if (allowed('tensorflow')) {
    for (const [name, pkg] of [
      ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu'],
      ['tensorflow', '@tensorflow/tfjs-node'],
    ] as const) {
      const why = await tryTensorflow(pkg);
      if (why === null) return done(name, os.availableParallelism?.() ?? os.cpus().length, null);
      skip(name, why);
    }
    if (force.kind === 'tensorflow') throw new Error(`${force.by}: no TensorFlow binding works here (${reasons(candidates)})`);
  } else {
    skip('tensorflow-gpu', forcedReason);
    skip('tensorflow', forcedReason);
  }

  // 3. WASM.
  if (allowed('wasm')) {
    const r = await tryWasm(threads);
    if (r.ok) {
      return done('wasm', r.threads, r.simd, r.note, r.simd ? relaxedSimd() : null);
    }
    skip('wasm', r.reason);
    if (force.kind === 'wasm') throw new Error(`${force.by}: the wasm backend failed (${r.reason})`);
  } else {
    skip('wasm', forcedReason);
  }

  // 4. Pure JS: always there.
  if (!(await tf.setBackend('cpu'))) throw new Error('even the cpu backend failed to initialise');
  return done('cpu', 1, null);
}

function kindOf(name: CandidateName): BackendKind {
  return name === 'tensorflow-gpu' ? 'tensorflow' : name;
}

function reasons(cs: Candidate[]): string {
  return cs.map((c) => `${c.name}: ${c.reason ?? 'ok'}`).join('; ');
}

/** null when the binding loaded and its backend is active; else the human reason. */
async function tryTensorflow(pkg: string): Promise<string | null> {
  try {
    // A variable specifier: these optional packages are usually not installed, so no static import.
    await import(pkg);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      return `${pkg} is not installed (its install needs a libtensorflow download)`;
    }
    return `${pkg} failed to load: ${firstLine(err)}`;
  }
  try {
    if (await tf.setBackend('tensorflow')) return null;
    return `${pkg} loaded but its backend did not initialise`;
  } catch (err) {
    return `${pkg} loaded but its backend failed: ${firstLine(err)}`;
  }
}

type WasmResult =
  | { ok: true; threads: number; simd: boolean; note: string | null }
  | { ok: false; reason: string };

let wasmPathsSet = false;
let spinPatchNote: string | null = null;

async function tryWasm(threads: number): Promise<WasmResult> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-wasm failed to load: ${firstLine(err)}` };
  }
  // Training on wasm needs the engine's gradient kernels, which read the backend's internals: on a
  // tfjs version they were not written for, the cpu backend (tfjs's own kernels) is used instead.
  if (!internalsUsable()) return { ok: false, reason: `${versionMismatch()}: the wasm gradient kernels stay off` };
  // Under Node the binaries are read from disk: point tfjs at the package's own dist folder.
  if (!wasmPathsSet) {
    // The threaded binary with XNNPACK's idle worker spinning briefly (wasm-spin-patch.ts).
    const d = wasmDistDir();
    try {
      const threaded = spinPatchedThreadedWasm(d);
      wasm.setWasmPaths({ 'tfjs-backend-wasm.wasm': `${d}tfjs-backend-wasm.wasm`, 'tfjs-backend-wasm-simd.wasm': `${d}tfjs-backend-wasm-simd.wasm`, [THREADED_WASM]: threaded });
    } catch (err) {
      spinPatchNote = `XNNPACK's idle worker keeps its stock 3-ms spin: ${firstLine(err)}`;
      wasm.setWasmPaths(d);
    }
    wasmPathsSet = true;
  }
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  let note: string | null = null;
  let patch: { restore(): void } | null = null;
  if (threads > 1 && simd) {
    try {
      patch = prepareThreadedWasm(threads, (on) => tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', on));
      wasm.setThreadsCount(threads);
      note = spinPatchNote;
    } catch (err) {
      note = `threaded WASM unavailable, using 1 thread: ${firstLine(err)}`;
    }
  } else if (threads > 1) {
    note = 'threaded WASM needs SIMD, which this runtime lacks: using 1 thread';
  }
  if (!patch) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasm.setThreadsCount(1);
  }
  // A full heap must fail loudly: tfjs would otherwise write the tensor at address 0.
  const guard = installWasmHeapGuard();
  if (guard) note = note ? `${note}; heap guard ${guard}` : `heap guard ${guard}`;
  let okInit: boolean;
  const before = processListeners();
  try {
    okInit = await tf.setBackend('wasm');
  } catch (err) {
    return { ok: false, reason: `wasm backend failed to initialise: ${firstLine(err)}` };
  } finally {
    patch?.restore();
    removeAddedListeners(before);
  }
  if (!okInit) return { ok: false, reason: 'wasm backend failed to initialise (see the warning above)' };
  settleWorkers(wasmModuleOf(tf.backend()));
  registerWasmKernels();
  // Debug mode: every kernel call is followed by a check of the heap's region headers/footers.
  if (process.env.DISTILL_HEAP_CHECK === '1') installHeapChecker(tf.backend() as unknown as WasmBackend);
  return { ok: true, threads: wasm.getThreadsCount(), simd, note };
}

type Listener = (...args: unknown[]) => void;
const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

// Plain EventEmitter view of process: its typed overloads do not take a union of event names.
const emitter = process as unknown as { listeners(e: string): Listener[]; removeListener(e: string, l: Listener): void };

function processListeners(): Map<string, Listener[]> {
  return new Map(PROCESS_EVENTS.map((e) => [e, emitter.listeners(e)]));
}

/**
 * Emscripten's Node glue adds uncaughtException/unhandledRejection handlers that rethrow: the
 * process still dies, but Node then prints the whole minified glue line (tens of KB) before the
 * error, and some errors (a stack overflow) come out as "undefined". Node's defaults do the same
 * job cleanly, so the handlers added during initialisation are removed.
 */
function removeAddedListeners(before: Map<string, Listener[]>): void {
  for (const e of PROCESS_EVENTS) {
    const had = before.get(e) ?? [];
    for (const l of emitter.listeners(e)) if (!had.includes(l)) emitter.removeListener(e, l);
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 300);
}
