// tfjs-backend-wasm 4.22 never checks what its allocator returns. The heap is a 32-bit WASM memory
// (4 GiB at most); once it is full, malloc returns 0, BackendWasm.move registers the tensor at
// address 0 and the next kernel writes its output over the bottom of the heap: Emscripten's static
// data, the allocator's free lists and tfjs's tensor registry. From then on malloc/free walk broken
// lists and may spin forever at 100% CPU (a long training run "hangs" inside $malloc/$free), or
// crash with "memory access out of bounds" somewhere unrelated.
//
// This guard replaces BackendWasm.move with the same code plus the missing check, so a full heap
// becomes an error that names the allocation, before anything is written. Written for the 4.22.0
// build: it installs through patchOnce, so on another version it stays off and the reason is reported.
import * as tf from '@tensorflow/tfjs';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { patchOnce } from './index.js';
import { versionMismatch } from './versions.js';

/** The fields of BackendWasm that `move` touches (4.22.0). */
interface BackendWasmInternals {
  dataIdNextNumber: number;
  dataIdMap: { set(dataId: object, d: object): void };
  wasm: {
    _malloc(bytes: number): number;
    HEAPU8: Uint8Array;
    tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void };
  };
}

export class WasmHeapFull extends Error {}

/** Installs the guard once; returns null when it is in place, else why not. */
export function installWasmHeapGuard(): string | null {
  const proto = BackendWasm.prototype as unknown as Record<string, unknown>;
  if (typeof proto['move'] !== 'function') return 'not installed: BackendWasm.move is missing';
  const ok = patchOnce('wasm-heap-guard', () => {
    proto['move'] = moveChecked;
  });
  return ok ? null : `not installed: ${versionMismatch() ?? 'tfjs internals unavailable'}`;
}

function moveChecked(
  this: BackendWasmInternals,
  dataId: object,
  values: tf.backend_util.BackendValues | null,
  shape: number[],
  dtype: tf.DataType,
  refCount: number,
): void {
  const id = this.dataIdNextNumber++;
  if (dtype === 'string') {
    this.dataIdMap.set(dataId, { id, stringBytes: values, shape, dtype, memoryOffset: null, refCount });
    return;
  }
  const size = tf.util.sizeFromShape(shape);
  const numBytes = size * tf.util.bytesPerElement(dtype);
  // `>>> 0`: above 2 GiB, _malloc's i32 result reads as negative.
  const memoryOffset = this.wasm._malloc(numBytes) >>> 0;
  if (memoryOffset === 0 && numBytes > 0) {
    const heap = this.wasm.HEAPU8.buffer.byteLength;
    throw new WasmHeapFull(
      `the WASM heap is full (${(heap / 2 ** 30).toFixed(2)} GiB of at most 4 GiB): ` +
        `cannot allocate ${(numBytes / 2 ** 20).toFixed(1)} MiB for a ${dtype} tensor [${shape.join(',')}]`,
    );
  }
  this.dataIdMap.set(dataId, { id, memoryOffset, shape, dtype, refCount });
  this.wasm.tfjs.registerTensor(id, size, memoryOffset);
  if (values != null) {
    const v = values as ArrayBufferView;
    this.wasm.HEAPU8.set(new Uint8Array(v.buffer, v.byteOffset, numBytes), memoryOffset);
  }
}
