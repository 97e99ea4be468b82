// Per-channel reductions and affine maps over NHWC activations, on SIMD and all threads: the
// building blocks of a fused BatchNorm (models/fast-batchnorm.ts). They take tensors on the wasm
// backend and return null anywhere else (other backend, no SIMD), so the caller keeps a plain path.
import * as tf from '@tensorflow/tfjs';
import { partsFor } from './parallel.js';
import { splitRange } from './simd-pool.js';
import { asWasm, f32, ptr, scopedEffect, simdCtx, type WasmBackend } from './util.js';

/** Rows per float32 partial sum; the partials are added up in float64. */
const ROWS_PER_PARTIAL = 64;
const MIN_PARALLEL = 1 << 16;

function onWasm(...ts: tf.Tensor[]): WasmBackend | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = asWasm(tf.backend());
  return ts.every((t) => t.dtype === 'float32' && b.dataIdMap.get(t.dataId)) ? b : null;
}

/**
 * Over all rows of x [..., C]: moments → s1 = Σ(x − m), s2 = Σ(x − m)²; grad (a = dy, b = x) →
 * s1 = Σdy, s2 = Σdy·(x − m). m: C values (a shift, or the mean). Float64 results.
 */
export function channelSums(kind: 'moments' | 'grad', a: tf.Tensor, b: tf.Tensor | null, m: ArrayLike<number>): { s1: Float64Array; s2: Float64Array } | null {
  const backend = b ? onWasm(a, b) : onWasm(a);
  const ctx = backend ? simdCtx(backend) : null;
  if (!backend || !ctx) return null;
  const C = a.shape[a.shape.length - 1]!;
  const rows = a.size / C;
  const chunks = Math.ceil(rows / ROWS_PER_PARTIAL);
  const s1 = new Float64Array(C);
  const s2 = new Float64Array(C);
  scopedEffect(backend, (s) => {
    const mT = s.keep(backend.makeOutput([C], 'float32'));
    const partial = s.keep(backend.makeOutput([chunks, 2, C], 'float32'));
    f32(backend, mT).set(Array.from(m, Number));
    const fn = kind === 'moments' ? ctx.k.momentSums : ctx.k.gradSums;
    const pa = ptr(backend, a);
    const pb = b ? ptr(backend, b) : 0;
    const pm = ptr(backend, mT);
    const po = ptr(backend, partial);
    // Split over whole chunks so every thread writes its own partials.
    const parts = ctx.pool && a.size >= MIN_PARALLEL ? splitRange(chunks, partsFor(ctx)) : [[0, chunks] as [number, number]];
    const args = parts.map(([c0, c1]) => {
      const r0 = c0 * ROWS_PER_PARTIAL;
      const r1 = Math.min(rows, c1 * ROWS_PER_PARTIAL);
      return [pa + r0 * C * 4, b ? pb + r0 * C * 4 : 0, pm, po + c0 * 2 * C * 4, r1 - r0, C, ROWS_PER_PARTIAL];
    });
    if (args.length === 1) fn(...(args[0] as [number, number, number, number, number, number, number]));
    else ctx.pool!.run(fn, kind === 'moments' ? 'momentSums' : 'gradSums', args);
    const v = f32(backend, partial);
    for (let ch = 0; ch < chunks; ch++) {
      const base = ch * 2 * C;
      for (let c = 0; c < C; c++) {
        s1[c]! += v[base + c]!;
        s2[c]! += v[base + C + c]!;
      }
    }
  });
  return { s1, s2 };
}

/**
 * out = (x − shift)·a + z·k + b per channel (last axis; shift 0 when absent); z and k together or
 * not at all.
 */
export function channelAffine(
  x: tf.Tensor,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  z?: tf.Tensor,
  k?: ArrayLike<number>,
  shift?: ArrayLike<number>,
): tf.Tensor | null {
  const backend = z ? onWasm(x, z) : onWasm(x);
  if (!backend) return null;
  const out = channelAffineInfo(backend, x, a, b, z, k, shift);
  return out ? tf.engine().makeTensorFromTensorInfo(out) : null;
}

/** channelAffine on TensorInfos (for kernels); null without SIMD. */
export function channelAffineInfo(
  backend: WasmBackend,
  x: tf.TensorInfo,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  z?: tf.TensorInfo,
  k?: ArrayLike<number>,
  shift?: ArrayLike<number>,
): tf.TensorInfo | null {
  const ctx = simdCtx(backend);
  if (!ctx) return null;
  if ((z === undefined) !== (k === undefined)) throw new Error('channelAffine: z and k go together');
  if (z && !tf.util.arraysEqual(z.shape, x.shape)) throw new Error('channelAffine: z must have the shape of x');
  const C = x.shape[x.shape.length - 1]!;
  const size = x.shape.reduce((p, d) => p * d, 1);
  const rows = size / C;
  const out = backend.makeOutput(x.shape, 'float32');
  scopedEffect(backend, (s) => {
    // [a, k, b, shift]; the unused rows stay zero.
    const vecs = s.keep(backend.makeOutput([4, C], 'float32'));
    const v = f32(backend, vecs);
    v.fill(0);
    v.set(Array.from(a, Number), 0);
    if (k) v.set(Array.from(k, Number), C);
    v.set(Array.from(b, Number), 2 * C);
    if (shift) v.set(Array.from(shift, Number), 3 * C);
    const pv = ptr(backend, vecs);
    const px = ptr(backend, x);
    const pz = z ? ptr(backend, z) : 0;
    const po = ptr(backend, out);
    const parts = ctx.pool && size >= MIN_PARALLEL ? splitRange(rows, partsFor(ctx)) : [[0, rows] as [number, number]];
    const args = parts.map(([r0, r1]) => [px + r0 * C * 4, z ? pz + r0 * C * 4 : 0, po + r0 * C * 4, pv + 3 * C * 4, pv, pv + C * 4, pv + 2 * C * 4, r1 - r0, C, z ? 1 : 0]);
    if (args.length === 1) ctx.k.chanAffine(...(args[0] as [number, number, number, number, number, number, number, number, number, number]));
    else ctx.pool!.run(ctx.k.chanAffine, 'chanAffine', args);
  });
  return out;
}
