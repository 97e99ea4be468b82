// Runs the SIMD kernels on several threads. With the threaded tfjs build the WASM heap is a
// SharedArrayBuffer, so worker_threads can instantiate the same kernel module on the same memory
// and each compute a disjoint part of an output. A job is a list of parts (argument lists) posted
// through a small shared control block (Atomics.wait/notify: microseconds, no message passing);
// every thread, the caller's included, claims the next unclaimed part until none is left, so a
// worker that wakes late (~90 µs after an idle gap on a 2-core machine) or runs on a busy core
// takes fewer parts instead of holding the caller up. tfjs itself stays on the main thread.
import { Worker } from 'node:worker_threads';

/** The Winograd transforms, one per tile size (winograd-asm.ts). */
export type WinogradKernelName = `${'wgFilter' | 'wgInput' | 'wgOutput' | 'wgDy' | 'wgFilterOut'}${2 | 3 | 4}`;

/** Names of the kernel module's exports, in a fixed order (the job's function index). */
export type KernelName =
  | 'transpose2d' | 'copyBlocks' | 'zero' | 'colSum' | 'dwFilterGrad' | 'gemm' | 'dwInputGrad' | 'im2col'
  | 'add' | 'sub' | 'mul' | 'min' | 'max' | 'greater' | 'greaterEqual' | 'less' | 'lessEqual'
  | 'relu' | 'relu6' | 'step' | 'reluGrad' | 'tileRows' | 'momentSums' | 'gradSums' | 'chanAffine' | 'col2im' | 'adam'
  | 'dwFilterGrad3x3' | WinogradKernelName | 'maxPoolGrad' | 'dwConv3x3' | 'gemmEpi' | 'gemmBatch' | 'gemmSum' | 'gemmFma';

const MAX_ARGS = 20;
/** Parts one job may have. */
export const MAX_PARTS = 16;
// The control block, in int32 slots.
const SEQ = 0; // bumped by the caller to post a job; workers wait on it
const QUIT = 1; // 1: workers exit
const FN = 2; // function index
const NPARTS = 3;
const ARGC = 4;
const NEXT = 5; // the next part to claim (Atomics.add); CLOSED between jobs
const COMPLETED = 6; // parts finished; the caller waits on it
const STATUS = 7; // 0 ok, 1 a part failed on a worker
const ARGS = 8; // part p's arguments at ARGS + p·MAX_ARGS
const SLOTS = ARGS + MAX_PARTS * MAX_ARGS;
/** NEXT between jobs: any claim made then reads past every job's parts. */
const CLOSED = 1 << 30;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { bytes, memory, ctrl, names } = workerData;
const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
const fns = names.map((n) => inst.exports[n]);
const c = new Int32Array(ctrl);
let seq = 0;
for (;;) {
  Atomics.wait(c, ${SEQ}, seq);
  seq = Atomics.load(c, ${SEQ});
  if (Atomics.load(c, ${QUIT}) === 1) break;
  for (;;) {
    // A claim below NPARTS is a part of the job posted last: the caller fills a job's slots
    // before it opens NEXT, and closes NEXT before it writes the next job's.
    const p = Atomics.add(c, ${NEXT}, 1);
    if (p >= Atomics.load(c, ${NPARTS})) break;
    const base = ${ARGS} + p * ${MAX_ARGS};
    const args = [];
    for (let i = 0; i < c[${ARGC}]; i++) args.push(c[base + i]);
    try { fns[c[${FN}]](...args); } catch (e) { Atomics.store(c, ${STATUS}, 1); }
    Atomics.add(c, ${COMPLETED}, 1);
    Atomics.notify(c, ${COMPLETED});
  }
}
`;

export class SimdPool {
  private readonly workers: Worker[] = [];
  private readonly names: KernelName[];
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  /** Parts run so far, and how many of them on the workers (for tests and profiles). */
  readonly counts = { parts: 0, workerParts: 0 };

  /** `threads` in all, the caller's included. */
  constructor(bytes: Uint8Array, memory: WebAssembly.Memory, names: KernelName[], readonly threads: number) {
    this.names = names;
    this.ctrl[NEXT] = CLOSED;
    for (let t = 1; t < threads; t++) {
      // No execArgv: the worker is plain JS and needs none of the parent's loaders.
      const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { bytes, memory, ctrl: this.ctrl.buffer, names } });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /**
   * Runs `fn` once per entry of `parts` (argument lists, at most MAX_PARTS, each writing its own
   * part of the output), in parallel: every thread claims parts until none is left; returns when
   * all are done.
   */
  run(local: (...args: number[]) => void, name: KernelName, parts: number[][]): void {
    const n = parts.length;
    if (n > MAX_PARTS) throw new Error(`${n} parts (at most ${MAX_PARTS})`);
    if (n === 0) return;
    if (n === 1 || this.workers.length === 0) {
      for (const p of parts) local(...p);
      return;
    }
    const c = this.ctrl;
    const argc = parts[0]!.length;
    if (argc > MAX_ARGS || parts.some((p) => p.length !== argc)) throw new Error(`parts of ${name} must have the same ≤ ${MAX_ARGS} arguments`);
    c[FN] = this.names.indexOf(name);
    c[NPARTS] = n;
    c[ARGC] = argc;
    for (let p = 0; p < n; p++) {
      const args = parts[p]!;
      for (let i = 0; i < argc; i++) c[ARGS + p * MAX_ARGS + i] = args[i]! | 0;
    }
    c[STATUS] = 0;
    Atomics.store(c, COMPLETED, 0);
    Atomics.store(c, NEXT, 0);
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
    let error: unknown = null;
    let mine = 0;
    for (let p = Atomics.add(c, NEXT, 1); p < n; p = Atomics.add(c, NEXT, 1)) {
      try {
        local(...parts[p]!);
      } catch (e) {
        error ??= e;
      }
      mine++;
    }
    // Parts the workers claimed and may still be running.
    let done = Atomics.add(c, COMPLETED, mine) + mine;
    this.counts.parts += n;
    this.counts.workerParts += n - mine;
    while (done < n) {
      Atomics.wait(c, COMPLETED, done);
      done = Atomics.load(c, COMPLETED);
    }
    Atomics.store(c, NEXT, CLOSED);
    if (c[STATUS] !== 0) error ??= new Error(`SIMD kernel ${name} failed on a worker thread`);
    if (error) throw error;
  }

  dispose(): void {
    Atomics.store(this.ctrl, QUIT, 1);
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
    this.workers.length = 0;
  }
}

/** Splits [0, n) into at most `parts` ranges whose sizes are multiples of `align` (but the last). */
export function splitRange(n: number, parts: number, align = 1): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const per = Math.ceil(n / parts / align) * align;
  for (let s = 0; s < n; s += per) out.push([s, Math.min(n, s + per)]);
  return out;
}
