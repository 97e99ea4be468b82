// tfjs-backend-wasm's threaded build with XNNPACK's idle worker spinning ~0.1 ms instead of ~3.
//
// pthreadpool (XNNPACK's thread pool) keeps each worker spinning for 1,000,000 polls after a job
// before it sleeps: ~3 ms here. Operators come every fraction of a millisecond, so that worker never
// sleeps and holds a core for the whole run. The project's own SIMD kernels split their work with a
// worker of their own (wasm-kernels/simd-pool.ts); on a 2-core machine that worker then shares a
// core with the spinning one, and a kernel's second half finishes late (a 3×3 depthwise convolution
// right after an XNNPACK convolution: 0.45 → 0.95 ms). With 25,000 polls XNNPACK's worker still
// catches back-to-back operators and then gives the core up (measured in THREADS.md).
//
// The patch rewrites that one constant in a copy of the binary, found by the exact bytes of the
// loop's head in the 4.22 build; on any other build it refuses, and the stock binary is used.
import fs from 'node:fs';
import path from 'node:path';
import { writeTempArtifact } from './wasm-threads.js';

/** Polls of an idle pthreadpool worker before it sleeps, in the patched binary (a multiple of 5: the loop polls 5 at a time). */
export const WORKER_SPIN_POLLS = 25_000;

export const THREADED_WASM = 'tfjs-backend-wasm-threaded-simd.wasm';

/**
 * The head of pthreadpool's worker wait (wait_for_new_command): i32.const 1000000 (the polls);
 * local.set 7; local.get 6; i32.const 2 (PTHREADPOOL_FLAG_YIELD_WORKERS); i32.and; i32.eqz; if.
 */
const LOOP_HEAD = [0x41, 0xc0, 0x84, 0x3d, 0x21, 0x07, 0x20, 0x06, 0x41, 0x02, 0x71, 0x45, 0x04, 0x40];
/** Its step, a little further on: i32.const 5; i32.sub; local.tee 7; br_if 0. */
const LOOP_STEP = [0x41, 0x05, 0x6b, 0x22, 0x07, 0x0d, 0x00];
const STEP_WITHIN = 160;

/** A signed LEB128 of exactly three bytes (padded), the width of the constant it replaces. */
function sleb3(v: number): number[] {
  if (v < 0 || v >= 1 << 20) throw new Error(`${v} does not fit three LEB128 bytes`);
  return [0x80 | (v & 0x7f), 0x80 | ((v >> 7) & 0x7f), (v >> 14) & 0x3f];
}

/** The binary with the worker's polls set to `polls`; throws when `stock` is not the build this was written for. */
export function patchWorkerSpin(stock: Uint8Array, polls = WORKER_SPIN_POLLS): Uint8Array<ArrayBuffer> {
  if (polls % 5 !== 0) throw new Error('the polls must be a multiple of 5 (the loop counts down by 5 to exactly 0)');
  const bytes = Buffer.from(stock);
  const head = Buffer.from(LOOP_HEAD);
  const at = bytes.indexOf(head);
  if (at < 0) throw new Error("pthreadpool's worker wait loop was not found in this tfjs-backend-wasm build");
  if (bytes.indexOf(head, at + 1) >= 0) throw new Error("pthreadpool's worker wait loop occurs more than once in this build");
  const step = bytes.subarray(at, at + STEP_WITHIN).indexOf(Buffer.from(LOOP_STEP));
  if (step < 0) throw new Error("pthreadpool's worker wait loop does not count down by 5 in this build");
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  out.set(sleb3(polls), at + 1);
  return out;
}

/**
 * Path of the patched threaded binary, written once into the temp folder (named by its content
 * hash, atomically); throws with the reason when the package's binary is not the expected build.
 */
export function spinPatchedThreadedWasm(distDir: string): string {
  const stock = fs.readFileSync(path.join(distDir, THREADED_WASM));
  const patched = patchWorkerSpin(stock);
  if (!WebAssembly.validate(patched)) throw new Error('the patched binary does not validate');
  return writeTempArtifact('threaded-simd', '.wasm', patched);
}
