// Elementwise float32 kernels on SIMD and all threads: Add/Sub/Multiply of equal shapes or with a
// scalar (and Add of a bias along the last axis), Relu, Relu6, Step. tfjs's wasm versions are scalar loops on one
// thread; in a training step they run on every activation (bias adds, ReLU and its gradient
// dy·step(y), Adam's updates). Broadcasts other than the bias, other dtypes and Step with a
// non-zero alpha go to tfjs's kernels.
import * as tf from '@tensorflow/tfjs';
import type { Simd } from './simd-module.js';
import { splitRange } from './simd-pool.js';
import { asWasm, ptr, simdCtx } from './util.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };
type Binary = 'add' | 'sub' | 'mul';

/** Floats under which one thread does it all (a hand-over costs ~10–50 µs). */
const MIN_PARALLEL = 1 << 16;

function parts(s: Simd, n: number): Array<[number, number]> {
  return s.pool && n >= MIN_PARALLEL ? splitRange(n, s.threads, 16) : [[0, n]];
}

/** mode 0: a, b both n long; 1: b a scalar; 2: a a scalar. */
function runBinary(s: Simd, op: Binary, a: number, b: number, out: number, n: number, mode: number): void {
  const ranges = parts(s, n);
  const argLists = ranges.map(([i0, i1]) => [mode === 2 ? a : a + i0 * 4, mode === 1 ? b : b + i0 * 4, out + i0 * 4, i1 - i0, mode]);
  if (argLists.length === 1) s.k[op](...(argLists[0] as [number, number, number, number, number]));
  else s.pool!.run(s.k[op], op, argLists);
}

export function makeBinary(op: Binary, fallback: tf.KernelFunc) {
  const commutative = op !== 'sub';
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = asWasm(args.backend);
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const s = simdCtx(backend);
    if (!s || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const na = a.shape.reduce((x, y) => x * y, 1);
    const nb = b.shape.reduce((x, y) => x * y, 1);
    if (tf.util.arraysEqual(a.shape, b.shape)) {
      const out = backend.makeOutput(a.shape, 'float32');
      if (na > 0) runBinary(s, op, ptr(backend, a), ptr(backend, b), ptr(backend, out), na, 0);
      return out;
    }
    // A tensor and a scalar (Adam's and the optimizers' updates); the output takes the tensor's
    // shape, so the scalar side must not have more dimensions than the tensor.
    if (nb === 1 && na > 0 && b.shape.length <= a.shape.length) {
      const out = backend.makeOutput(a.shape, 'float32');
      runBinary(s, op, ptr(backend, a), ptr(backend, b), ptr(backend, out), na, 1);
      return out;
    }
    if (na === 1 && nb > 0 && a.shape.length <= b.shape.length) {
      const out = backend.makeOutput(b.shape, 'float32');
      runBinary(s, op, ptr(backend, a), ptr(backend, b), ptr(backend, out), nb, 2);
      return out;
    }
    // x + bias over the last axis (either operand order for Add).
    if (op === 'add') {
      const [big, bias] = isBiasOf(a, b) ? [a, b] : commutative && isBiasOf(b, a) ? [b, a] : [null, null];
      if (big && bias) {
        const cols = bias.shape.reduce((x, y) => x * y, 1);
        const rows = Math.max(na, nb) / cols;
        const out = backend.makeOutput(big.shape, 'float32');
        const src = ptr(backend, big);
        const bp = ptr(backend, bias);
        const dst = ptr(backend, out);
        const rowParts = s.pool && rows * cols >= MIN_PARALLEL ? splitRange(rows, s.threads) : [[0, rows] as [number, number]];
        const argLists = rowParts.map(([r0, r1]) => [src + r0 * cols * 4, bp, dst + r0 * cols * 4, r1 - r0, cols]);
        if (argLists.length === 1) s.k.addBias(...(argLists[0] as [number, number, number, number, number]));
        else s.pool!.run(s.k.addBias, 'addBias', argLists);
        return out;
      }
    }
    return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  };
}

/** True when `bias` broadcasts along the last axis of `x`: shape [C] or [1,…,1,C], x [...,C]. */
function isBiasOf(x: tf.TensorInfo, bias: tf.TensorInfo): boolean {
  const c = x.shape[x.shape.length - 1];
  if (c === undefined || bias.shape.length === 0 || bias.shape.length > x.shape.length) return false;
  if (bias.shape[bias.shape.length - 1] !== c) return false;
  return bias.shape.slice(0, -1).every((d) => d === 1);
}

export function makeUnary(op: 'relu' | 'relu6' | 'step', fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = asWasm(args.backend);
    const { x } = args.inputs as { x: tf.TensorInfo };
    const s = simdCtx(backend);
    const alpha = op === 'step' ? ((args.attrs as { alpha?: number }).alpha ?? 0) : 0;
    if (!s || x.dtype !== 'float32' || alpha !== 0) return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const n = x.shape.reduce((p, d) => p * d, 1);
    const out = backend.makeOutput(x.shape, 'float32');
    if (n === 0) return out;
    const src = ptr(backend, x);
    const dst = ptr(backend, out);
    const argLists = parts(s, n).map(([i0, i1]) => [src + i0 * 4, dst + i0 * 4, i1 - i0]);
    if (argLists.length === 1) s.k[op](...(argLists[0] as [number, number, number]));
    else s.pool!.run(s.k[op], op, argLists);
    return out;
  };
}
