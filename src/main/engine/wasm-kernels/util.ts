// Plumbing shared by the wasm gradient kernels: call the backend's own (XNNPACK-backed) kernels on
// TensorInfos, free intermediates, and view tensors on the WASM heap.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels, type Simd, type SimdKernels } from './simd-module.js';

type TensorInfo = tf.TensorInfo;
type NamedAttrMap = tf.NamedAttrMap;

/** The slice of tfjs-backend-wasm's BackendWasm that these kernels use. */
export interface WasmBackend {
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined; has(dataId: object): boolean };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  wasm: WasmModule;
}
interface WasmModule {
  HEAPU8: Uint8Array;
  /** Threaded build: the shared memory. */
  wasmMemory?: WebAssembly.Memory;
  /** Single-threaded build: the instance's exports, `memory` among them. */
  asm?: { memory?: WebAssembly.Memory };
}

export function asWasm(backend: unknown): WasmBackend {
  return backend as WasmBackend;
}

/** Runs another wasm kernel directly (not through the engine: no tape, no extra bookkeeping). */
export function run(backend: WasmBackend, name: string, inputs: Record<string, TensorInfo>, attrs: object = {}): TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} is missing`);
  return k.kernelFunc({ inputs, backend: backend as unknown as tf.KernelBackend, attrs: attrs as NamedAttrMap }) as TensorInfo;
}

/** Owns the intermediates of one kernel call; `done` frees all but the result. */
export class Scope {
  private readonly owned: TensorInfo[] = [];
  constructor(readonly backend: WasmBackend) {}
  keep<T extends TensorInfo>(t: T): T {
    this.owned.push(t);
    return t;
  }
  run(name: string, inputs: Record<string, TensorInfo>, attrs: object = {}): TensorInfo {
    return this.keep(run(this.backend, name, inputs, attrs));
  }
  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }
  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }
  /** Frees every intermediate except `result` (which may alias one of them, e.g. a reshape). */
  done(result: TensorInfo): TensorInfo {
    for (const t of this.owned) if (t !== result) this.backend.disposeData(t.dataId);
    return result;
  }
  /** Frees everything (the error path, and kernels that only write into existing outputs). */
  freeAll(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
  }
}

/** Runs `body` with a Scope, freeing its intermediates whatever happens. */
export function scoped(backend: WasmBackend, body: (s: Scope) => TensorInfo): TensorInfo {
  const s = new Scope(backend);
  let result: TensorInfo;
  try {
    result = body(s);
  } catch (err) {
    s.freeAll();
    throw err;
  }
  return s.done(result);
}

/**
 * Runs `body` for its effect (it writes into outputs allocated outside the scope): every
 * intermediate is freed, whatever happens. Use this, not `scoped`, when there is no result to hand
 * on: `scoped` keeps its result alive for the caller, so a scratch tensor returned to it and then
 * dropped is a raw heap allocation the engine never sees, lost on every call.
 */
export function scopedEffect(backend: WasmBackend, body: (s: Scope) => void): void {
  const s = new Scope(backend);
  try {
    body(s);
  } finally {
    s.freeAll();
  }
}

/**
 * A Float32Array view of a tensor on the WASM heap. Take views only after the last allocation of
 * the kernel: allocating may grow the heap, and views made before then no longer see it.
 */
export function f32(backend: WasmBackend, t: TensorInfo): Float32Array {
  const mem = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  const buffer = mem ? mem.buffer : backend.wasm.HEAPU8.buffer;
  return new Float32Array(buffer, ptr(backend, t), sizeOf(t.shape));
}

/** Byte address of a tensor's data on the WASM heap. */
export function ptr(backend: WasmBackend, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error('tensor is not on the wasm backend');
  return d.memoryOffset;
}

let simdOff = false;
let maxThreads = Infinity;

/** The run-time assembled SIMD kernels on this backend's heap; null where SIMD is unavailable. */
export function simd(backend: WasmBackend): SimdKernels | null {
  return simdCtx(backend)?.k ?? null;
}

/** The kernels plus the worker pool that shares the heap (threaded build). */
export function simdCtx(backend: WasmBackend): Simd | null {
  if (simdOff) return null;
  const mem = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!mem) return null;
  try {
    let threads = 1;
    try {
      threads = Math.min(getThreadsCount(), maxThreads);
    } catch {
      // backend not initialised through tfjs's init: one thread
    }
    return simdKernels(mem, threads);
  } catch {
    simdOff = true; // no WASM SIMD in this runtime: callers use their plain paths
    return null;
  }
}

/** For tests and benchmarks: cap the SIMD kernels' threads (before their first use). */
export function setSimdMaxThreads(n: number): void {
  maxThreads = n;
}

/** For tests: force the non-SIMD paths. */
export function setSimdEnabled(on: boolean): void {
  simdOff = !on;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
