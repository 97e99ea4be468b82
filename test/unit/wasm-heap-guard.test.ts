// A full WASM heap: tfjs-backend-wasm 4.22 would register the tensor at address 0 and the kernel
// would write its output over the bottom of the heap (the allocator's state), after which
// malloc/free can spin forever. With the guard the allocation fails with a clear error, nothing is
// written, and once memory is freed everything works again on an intact heap.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { WasmHeapFull } from '../../src/main/engine/compat/wasm-heap-guard.js';
import { installHeapChecker, type HeapChecker } from '../../src/main/engine/compat/heap-check.js';
import { asWasm } from '../../src/main/engine/wasm-kernels/util.js';

interface Allocating {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  wasm: { HEAPU8: Uint8Array };
}

let checker: HeapChecker;

beforeAll(async () => {
  await initBackend({ force: 'wasm', threads: 2 });
  checker = installHeapChecker(asWasm(tf.backend()));
});
afterAll(() => checker.uninstall());

describe('wasm heap guard', () => {
  it('turns a full heap into an error and leaves the heap intact', () => {
    const b = tf.backend() as unknown as Allocating;
    const x = tf.fill([1 << 20], 2); // 4 MiB, allocated while there is room
    const lowBefore = Array.from(b.wasm.HEAPU8.slice(0, 4096));
    // Fill the heap to its 4 GiB limit without touching the pages (makeOutput only allocates).
    const hogs: tf.TensorInfo[] = [];
    let full: unknown = null;
    for (const mib of [256, 16, 1]) {
      for (;;) {
        let t: tf.TensorInfo;
        try {
          t = b.makeOutput([mib * 262144], 'float32');
        } catch (err) {
          full = err;
          break;
        }
        hogs.push(t);
        // Unguarded, tfjs registers the tensor at address 0 instead of failing.
        if (b.dataIdMap.get(t.dataId)?.memoryOffset === 0) {
          full = new Error('allocated at address 0');
          break;
        }
      }
    }
    expect(full).toBeInstanceOf(WasmHeapFull);
    expect(String((full as Error).message)).toMatch(/WASM heap is full .* cannot allocate 1\.0 MiB/);
    expect(b.wasm.HEAPU8.buffer.byteLength).toBeGreaterThan(3.9 * 2 ** 30);
    // A kernel whose output does not fit fails instead of writing at address 0.
    expect(() => tf.add(x, 1)).toThrow(WasmHeapFull);
    expect(Array.from(b.wasm.HEAPU8.slice(0, 4096))).toEqual(lowBefore);
    for (const h of hogs) b.disposeData(h.dataId);
    // Everything works again, and every live region's header and footer is intact.
    const y = tf.add(x, 1);
    expect(Array.from(y.dataSync().slice(0, 4))).toEqual([3, 3, 3, 3]);
    checker.check('after the full heap');
    tf.dispose([x, y]);
  });
});
