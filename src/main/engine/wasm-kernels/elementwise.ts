// Elementwise float32 kernels on SIMD and all threads. tfjs's wasm versions are scalar loops on one
// thread, and with a broadcast operand (a scalar, or a per-channel vector) they fall into a
// generic index path that costs ~40 ns per element: ReLU6 in tfjs-layers is minimum(6, relu(x)),
// whose gradient compares every activation with that scalar, and BatchNorm's gradient multiplies
// full tensors by per-channel vectors. Covered: equal shapes, a scalar on either side, a vector
// along the last axis on either side. Other broadcasts and dtypes go to tfjs's kernels.
import * as tf from '@tensorflow/tfjs';
import type { Simd } from './simd-module.js';
import { elementwisePar, partsFor } from './parallel.js';
import { splitRange } from './simd-pool.js';
import { asWasm, ptr, simdCtx } from './util.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };
export type BinaryOp = 'add' | 'sub' | 'mul' | 'min' | 'max' | 'greater' | 'greaterEqual' | 'less' | 'lessEqual';
const BOOL_OUT: ReadonlySet<BinaryOp> = new Set(['greater', 'greaterEqual', 'less', 'lessEqual']);

/** Floats under which one thread does it all (a hand-over costs ~10–50 µs). */
const MIN_PARALLEL = 1 << 16;

interface Plan {
  /** 0 equal shapes, 1 b scalar, 2 a scalar, 3 b a row vector, 4 a a row vector. */
  mode: number;
  n: number;
  cols: number;
  shape: number[];
}

function size(shape: number[]): number {
  return shape.reduce((x, y) => x * y, 1);
}

/** True when `v` broadcasts along the last axis of `x`: shape [C] or [1,…,1,C], x [...,C]. */
function isRowOf(v: tf.TensorInfo, x: tf.TensorInfo): boolean {
  const c = x.shape[x.shape.length - 1];
  if (c === undefined || v.shape.length === 0 || v.shape.length > x.shape.length) return false;
  if (v.shape[v.shape.length - 1] !== c) return false;
  return v.shape.slice(0, -1).every((d) => d === 1);
}

function plan(a: tf.TensorInfo, b: tf.TensorInfo): Plan | null {
  const na = size(a.shape);
  const nb = size(b.shape);
  if (tf.util.arraysEqual(a.shape, b.shape)) return { mode: 0, n: na, cols: 1, shape: a.shape };
  // The output takes the bigger operand's shape, so the other must not have more dimensions.
  if (nb === 1 && b.shape.length <= a.shape.length) return { mode: 1, n: na, cols: 1, shape: a.shape };
  if (na === 1 && a.shape.length <= b.shape.length) return { mode: 2, n: nb, cols: 1, shape: b.shape };
  if (isRowOf(b, a)) return { mode: 3, n: na, cols: nb, shape: a.shape };
  if (isRowOf(a, b)) return { mode: 4, n: nb, cols: na, shape: b.shape };
  return null;
}

function runBinary(s: Simd, op: BinaryOp, a: number, b: number, out: number, p: Plan): void {
  const outBytes = BOOL_OUT.has(op) ? 1 : 4;
  const fn = s.k[op];
  let argLists: number[][];
  if (p.mode <= 2) {
    const ranges = s.pool && p.n >= MIN_PARALLEL ? splitRange(p.n, partsFor(s), 16) : [[0, p.n] as [number, number]];
    argLists = ranges.map(([i0, i1]) => [p.mode === 2 ? a : a + i0 * 4, p.mode === 1 ? b : b + i0 * 4, out + i0 * outBytes, i1 - i0, p.mode, 1]);
  } else {
    const rows = p.n / p.cols;
    const ranges = s.pool && p.n >= MIN_PARALLEL ? splitRange(rows, partsFor(s)) : [[0, rows] as [number, number]];
    argLists = ranges.map(([r0, r1]) => {
      const off = r0 * p.cols;
      return [p.mode === 4 ? a : a + off * 4, p.mode === 3 ? b : b + off * 4, out + off * outBytes, (r1 - r0) * p.cols, p.mode, p.cols];
    });
  }
  if (argLists.length === 1) fn(...(argLists[0] as [number, number, number, number, number, number]));
  else s.pool!.run(fn, op, argLists);
}

export function makeBinary(op: BinaryOp, fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = asWasm(args.backend);
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const s = simdCtx(backend);
    const p = s && a.dtype === 'float32' && b.dtype === 'float32' ? plan(a, b) : null;
    if (!s || !p) return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const out = backend.makeOutput(p.shape, BOOL_OUT.has(op) ? 'bool' : 'float32');
    if (p.n > 0) runBinary(s, op, ptr(backend, a), ptr(backend, b), ptr(backend, out), p);
    return out;
  };
}

export function makeUnary(op: 'relu' | 'relu6' | 'step', fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = asWasm(args.backend);
    const { x } = args.inputs as { x: tf.TensorInfo };
    const s = simdCtx(backend);
    const alpha = op === 'step' ? ((args.attrs as { alpha?: number }).alpha ?? 0) : 0;
    if (!s || x.dtype !== 'float32' || alpha !== 0) return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const n = size(x.shape);
    const out = backend.makeOutput(x.shape, 'float32');
    if (n === 0) return out;
    const src = ptr(backend, x);
    const dst = ptr(backend, out);
    elementwisePar(s, op, n, (i0, i1) => [src + i0 * 4, dst + i0 * 4, i1 - i0]);
    return out;
  };
}

/**
 * Tile where the repeated axes are a contiguous run on which x has size 1 — a broadcast: BatchNorm's
 * gradient ([1,1,1,C] over [B,H,W,1]) and our Sum/Mean gradients ([B,1,1,C] over [1,H,W,1]). Per
 * index of the axes before the run, x's trailing block is repeated by doubling bulk copies.
 */
export function makeTile(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = asWasm(args.backend);
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { reps } = args.attrs as unknown as tf.TileAttrs;
    const s = simdCtx(backend);
    const tiled = reps.map((r, i) => (r !== 1 ? i : -1)).filter((i) => i >= 0);
    const first = tiled[0] ?? 0;
    const last = tiled[tiled.length - 1] ?? -1;
    const broadcast =
      tiled.length > 0 &&
      reps.length === x.shape.length &&
      tiled.every((a) => x.shape[a] === 1) &&
      x.shape.slice(first, last + 1).every((d) => d === 1);
    if (!s || x.dtype !== 'float32' || !broadcast || size(x.shape) === 0) return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const outShape = x.shape.map((d, i) => d * reps[i]!);
    const out = backend.makeOutput(outShape, 'float32');
    const outer = size(x.shape.slice(0, first));
    const block = size(x.shape.slice(last + 1));
    const times = size(reps.slice(first, last + 1));
    if (times === 0) return out;
    const src = ptr(backend, x);
    const dst = ptr(backend, out);
    for (let o = 0; o < outer; o++) s.k.tileRows(src + o * block * 4, dst + o * block * times * 4, block * 4, times);
    return out;
  };
}
