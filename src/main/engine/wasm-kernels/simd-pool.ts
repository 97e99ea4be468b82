// Runs the SIMD kernels on several threads. With the threaded tfjs build the WASM heap is a
// SharedArrayBuffer, so worker_threads can instantiate the same kernel module on the same memory
// and each compute a disjoint part of an output. Jobs are handed over through a small shared
// control block (Atomics.wait/notify: microseconds, no message passing); the calling thread runs
// part 0 itself and then waits for the others. tfjs itself stays on the main thread.
import { Worker } from 'node:worker_threads';

/** The Winograd transforms, one per tile size (winograd-asm.ts). */
export type WinogradKernelName = `${'wgFilter' | 'wgInput' | 'wgOutput' | 'wgDy' | 'wgFilterOut'}${2 | 3 | 4}`;

/** Names of the kernel module's exports, in a fixed order (the job's function index). */
export type KernelName =
  | 'transpose2d' | 'copyBlocks' | 'zero' | 'colSum' | 'dwFilterGrad' | 'gemm' | 'dwInputGrad' | 'im2col'
  | 'add' | 'sub' | 'mul' | 'min' | 'max' | 'greater' | 'greaterEqual' | 'less' | 'lessEqual'
  | 'relu' | 'relu6' | 'step' | 'reluGrad' | 'tileRows' | 'momentSums' | 'gradSums' | 'chanAffine' | 'col2im' | 'adam'
  | 'dwFilterGrad3x3' | WinogradKernelName | 'maxPoolGrad' | 'dwConv3x3' | 'gemmEpi' | 'gemmBatch' | 'gemmFma';

const MAX_ARGS = 20;
// Control block per worker, in int32 slots.
const SEQ = 0; // bumped by the caller to post a job
const DONE = 1; // set to SEQ by the worker when finished
const STATUS = 2; // 0 ok, 1 failed
const FN = 3; // function index, −1 = quit
const ARGC = 4;
const ARGS = 5;
const SLOTS = ARGS + MAX_ARGS;

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
  const fn = c[${FN}];
  if (fn < 0) break;
  const args = [];
  for (let i = 0; i < c[${ARGC}]; i++) args.push(c[${ARGS} + i]);
  try { fns[fn](...args); c[${STATUS}] = 0; } catch (e) { c[${STATUS}] = 1; }
  Atomics.store(c, ${DONE}, seq);
  Atomics.notify(c, ${DONE});
}
`;

interface PoolWorker {
  worker: Worker;
  ctrl: Int32Array;
  seq: number;
}

export class SimdPool {
  private readonly workers: PoolWorker[] = [];
  private readonly names: KernelName[];

  /** `threads` in all, the caller's included. */
  constructor(bytes: Uint8Array, memory: WebAssembly.Memory, names: KernelName[], readonly threads: number) {
    this.names = names;
    for (let t = 1; t < threads; t++) {
      const ctrl = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
      // No execArgv: the worker is plain JS and needs none of the parent's loaders.
      const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { bytes, memory, ctrl: ctrl.buffer, names } });
      worker.unref();
      this.workers.push({ worker, ctrl, seq: 0 });
    }
  }

  /**
   * Runs `fn` once per entry of `parts` (argument lists), in parallel: part 0 on this thread, the
   * rest on the workers. parts.length must not exceed `threads`.
   */
  run(local: (...args: number[]) => void, name: KernelName, parts: number[][]): void {
    if (parts.length > this.threads) throw new Error(`${parts.length} parts for ${this.threads} threads`);
    const fn = this.names.indexOf(name);
    const posted: PoolWorker[] = [];
    for (let p = 1; p < parts.length; p++) {
      const w = this.workers[p - 1]!;
      const args = parts[p]!;
      w.ctrl[FN] = fn;
      w.ctrl[ARGC] = args.length;
      for (let i = 0; i < args.length; i++) w.ctrl[ARGS + i] = args[i]! | 0;
      w.seq++;
      Atomics.store(w.ctrl, SEQ, w.seq);
      Atomics.notify(w.ctrl, SEQ);
      posted.push(w);
    }
    let error: unknown = null;
    try {
      if (parts[0]) local(...parts[0]);
    } catch (e) {
      error = e;
    }
    for (const w of posted) {
      let d: number;
      while ((d = Atomics.load(w.ctrl, DONE)) !== w.seq) Atomics.wait(w.ctrl, DONE, d);
      if (w.ctrl[STATUS] !== 0) error ??= new Error(`SIMD kernel ${name} failed on a worker thread`);
    }
    if (error) throw error;
  }

  dispose(): void {
    for (const w of this.workers) {
      w.ctrl[FN] = -1;
      w.seq++;
      Atomics.store(w.ctrl, SEQ, w.seq);
      Atomics.notify(w.ctrl, SEQ);
    }
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
