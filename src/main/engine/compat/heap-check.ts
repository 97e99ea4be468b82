// Heap-consistency checks for the wasm backend (debug mode: DISTILL_HEAP_CHECK=1, and tests).
//
// tfjs-backend-wasm 4.22 allocates tensors with Emscripten's emmalloc: every region starts with its
// size (4 bytes, before the pointer tfjs gets) and ends with the same size as a footer while in use
// (size | 1 once free). A kernel that writes even one float past its output overwrites that footer
// or the next region's header; emmalloc then walks a broken free list and can spin forever inside
// malloc/free. So after every kernel call this checks the header and footer of every live tensor
// and throws at the first kernel that broke one, naming it with its shapes and attributes.
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from '../wasm-kernels/util.js';

interface Region {
  offset: number;
  bytes: number;
}

interface TrackedBackend extends WasmBackend {
  move(dataId: object, values: unknown, shape: number[], dtype: tf.DataType, refCount: number): void;
  disposeData(dataId: object, force?: boolean): boolean;
}

export class HeapCorruption extends Error {}

export interface HeapChecker {
  /** Checks every live region now; throws HeapCorruption naming `where`. */
  check(where: string): void;
  /** Live regions tracked. */
  readonly live: number;
  /** Kernel calls checked so far. */
  readonly checks: number;
  uninstall(): void;
}

function heapU32(backend: WasmBackend): Uint32Array {
  const mem = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  return new Uint32Array(mem ? mem.buffer : backend.wasm.HEAPU8.buffer);
}

/** A region's header/footer problem, or null when it looks like a live emmalloc region. */
export function regionProblem(u32: Uint32Array, r: Region): string | null {
  const hdr = r.offset - 4;
  if (hdr % 4 !== 0) return `misaligned pointer ${r.offset}`;
  const size = u32[hdr >>> 2]!;
  if (size % 4 !== 0 || size < r.bytes + 8 || hdr + size > u32.length * 4) return `header at ${hdr} reads ${size} for a ${r.bytes}-byte tensor`;
  const foot = u32[(hdr + size - 4) >>> 2]!;
  if (foot !== size) return `footer at ${hdr + size - 4} reads ${foot}, header ${size} (a write past the tensor's end)`;
  return null;
}

/**
 * Tracks every allocation of the wasm backend and wraps every wasm kernel so that each call is
 * followed by a check of all live regions. Slow (a full pass per kernel call): for debugging and
 * tests, never on by default.
 */
export function installHeapChecker(backend: WasmBackend): HeapChecker {
  const b = backend as TrackedBackend;
  const regions = new Map<object, Region>();
  const origMove = b.move.bind(b);
  const origDispose = b.disposeData.bind(b);
  b.move = (dataId, values, shape, dtype, refCount) => {
    origMove(dataId, values, shape, dtype, refCount);
    const d = b.dataIdMap.get(dataId);
    if (d && dtype !== 'string') regions.set(dataId, { offset: d.memoryOffset, bytes: shape.reduce((p, x) => p * x, 1) * (dtype === 'bool' ? 1 : 4) });
  };
  b.disposeData = (dataId, force) => {
    const freed = origDispose(dataId, force);
    if (freed) regions.delete(dataId);
    return freed;
  };
  let checks = 0;
  const check = (where: string) => {
    checks++;
    const u32 = heapU32(b);
    for (const r of regions.values()) {
      const p = regionProblem(u32, r);
      if (p) throw new HeapCorruption(`wasm heap corrupted after ${where}: ${p}`);
    }
  };
  const wrapped: tf.KernelConfig[] = [];
  for (const k of tf.getKernelsForBackend('wasm')) {
    const orig = k.kernelFunc;
    const kernelFunc: tf.KernelFunc = (args) => {
      const out = orig(args);
      check(describe(k.kernelName, args));
      return out;
    };
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({ ...k, kernelFunc });
    wrapped.push(k);
  }
  return {
    check,
    get live() {
      return regions.size;
    },
    get checks() {
      return checks;
    },
    uninstall() {
      for (const k of wrapped) {
        tf.unregisterKernel(k.kernelName, 'wasm');
        tf.registerKernel(k);
      }
      b.move = origMove;
      b.disposeData = origDispose;
    },
  };
}

function describe(name: string, args: Parameters<tf.KernelFunc>[0]): string {
  const inputs = Object.entries(args.inputs)
    .map(([k, t]) => `${k}[${(t as tf.TensorInfo | undefined)?.shape.join(',') ?? ''}]`)
    .join(' ');
  let attrs = '';
  try {
    attrs = JSON.stringify(args.attrs ?? {}).slice(0, 300);
  } catch {
    attrs = '(attrs)';
  }
  return `${name} ${inputs} ${attrs}`;
}
