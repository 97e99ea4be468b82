// The threaded tfjs binary with pthreadpool's idle-worker spin shortened: exactly the one constant
// changes, the module still validates, and binaries of another build are refused.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { patchWorkerSpin, spinPatchedThreadedWasm, THREADED_WASM, WORKER_SPIN_POLLS } from '../../src/main/engine/backend/wasm-spin-patch.js';
import { wasmDistDir } from '../../src/main/engine/backend/wasm-threads.js';

const stock = fs.readFileSync(path.join(wasmDistDir(), THREADED_WASM));

/** Signed LEB128 at `at` (the patch pads to the original three bytes). */
function sleb(bytes: Uint8Array, at: number): number {
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++]!;
    v |= (b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) === 0) return b & 0x40 ? v - (1 << shift) : v;
  }
}

describe('pthreadpool spin patch', () => {
  it('rewrites only the three bytes of the worker\'s poll count, and the module validates', () => {
    const patched = patchWorkerSpin(stock);
    expect(patched.length).toBe(stock.length);
    const diff: number[] = [];
    for (let i = 0; i < stock.length; i++) if (patched[i] !== stock[i]) diff.push(i);
    expect(diff.length).toBeGreaterThan(0);
    expect(diff.length).toBeLessThanOrEqual(3);
    // i32.const (0x41) 1000000; local.set 7: the constant's LEB128 starts after the opcode.
    const at = Buffer.from(stock).indexOf(Buffer.from([0x41, 0xc0, 0x84, 0x3d, 0x21, 0x07])) + 1;
    expect(diff[0]).toBeGreaterThanOrEqual(at);
    expect(diff[diff.length - 1]).toBeLessThan(at + 3);
    expect(sleb(stock, at)).toBe(1_000_000);
    expect(sleb(patched, at)).toBe(WORKER_SPIN_POLLS);
    expect(WebAssembly.validate(patched)).toBe(true);
    expect(sleb(patchWorkerSpin(stock, 5), at)).toBe(5);
  });

  it('refuses a build without that loop, and counts the loop cannot reach zero with', () => {
    const other = fs.readFileSync(path.join(wasmDistDir(), 'tfjs-backend-wasm-simd.wasm'));
    expect(() => patchWorkerSpin(other)).toThrow(/worker wait loop was not found/);
    expect(() => patchWorkerSpin(stock, 1001)).toThrow(/multiple of 5/);
  });

  it('writes the patched binary once, named by its content', () => {
    const a = spinPatchedThreadedWasm(wasmDistDir());
    const b = spinPatchedThreadedWasm(wasmDistDir());
    expect(a).toBe(b);
    expect(new Uint8Array(fs.readFileSync(a))).toEqual(patchWorkerSpin(stock));
  });
});
