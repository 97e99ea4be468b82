// Relaxed SIMD gives WASM a fused multiply-add (f32x4.relaxed_madd). Chromium (Electron) has it on by
// default; Node 20's V8 has it behind --experimental-wasm-relaxed-simd, which a process may set for
// itself before it compiles a module that uses it. The project's GEMM uses it when present and keeps
// the plain mul + add path otherwise (DISTILL_RELAXED_SIMD=0 forces that path).
import v8 from 'node:v8';

/** (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd) */
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
]);

export interface RelaxedSimdState {
  on: boolean;
  /** Why it is off, or how it came on. */
  reason: string;
}

let state: RelaxedSimdState | null = null;

/** Whether WASM modules compiled from now on may use relaxed SIMD; turns the V8 flag on where needed. */
export function relaxedSimd(): RelaxedSimdState {
  if (state) return state;
  if (process.env['DISTILL_RELAXED_SIMD'] === '0') return (state = { on: false, reason: 'off: DISTILL_RELAXED_SIMD=0' });
  if (WebAssembly.validate(PROBE)) return (state = { on: true, reason: 'on by default in this runtime' });
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // not settable here: stays off
  }
  state = WebAssembly.validate(PROBE)
    ? { on: true, reason: 'on (--experimental-wasm-relaxed-simd set at start-up)' }
    : { on: false, reason: 'off: this runtime does not validate relaxed SIMD' };
  return state;
}
