// The SIMD kernels split over the pool's threads. Each split gives every part a disjoint piece
// of the output; below a size where handing over costs more than it saves, one thread does all.
import type { Simd } from './simd-module.js';
import { MAX_PARTS, splitRange, type KernelName } from './simd-pool.js';
import type { WinogradTile } from './winograd-matrices.js';

/**
 * Parts per thread for kernels whose parts cost the same apart as together (rows of an output,
 * images of a batch): the threads claim parts as they come free, so one that starts late or runs
 * on a busy core takes fewer. (Splits over columns or channels, where each part reads all of an
 * operand, and splits with a scratch per part stay at one part per thread.)
 */
const PARTS_PER_THREAD = 4;

/** How many parts to split a row- or batch-separable kernel into. */
export function partsFor(s: Simd): number {
  return Math.min(MAX_PARTS, s.threads * PARTS_PER_THREAD);
}

/** Output floats under which a kernel stays on one thread (a hand-over costs ~10–50 µs). */
const MIN_PARALLEL_WORK = 1 << 15;

function worthIt(s: Simd, work: number): boolean {
  return s.pool !== null && s.threads > 1 && work >= MIN_PARALLEL_WORK;
}

/** Floats under which an elementwise kernel stays on one thread. */
const MIN_PARALLEL_ELEMENTS = 1 << 16;

/**
 * An elementwise kernel over n floats, split into aligned ranges over the threads when n is large:
 * `argsFor(i0, i1)` gives the kernel's arguments for floats [i0, i1) (its pointers advanced by i0).
 */
export function elementwisePar(s: Simd, name: KernelName, n: number, argsFor: (i0: number, i1: number) => number[]): void {
  const fn = s.k[name] as (...args: number[]) => void;
  if (!s.pool || s.threads < 2 || n < MIN_PARALLEL_ELEMENTS) return fn(...argsFor(0, n));
  s.pool.run(fn, name, splitRange(n, partsFor(s), 16).map(([i0, i1]) => argsFor(i0, i1)));
}

let fmaOff = false;

/** For tests and benchmarks: the plain mul + add GEMM even where relaxed SIMD's fused multiply-add is compiled in. */
export function setGemmFmaEnabled(on: boolean): void {
  fmaOff = !on;
}

/** C = A·B (see SimdKernels.gemm), split over columns of C when wide enough, else over rows. */
export function gemmPar(s: Simd, a: number, b: number, c: number, p: number, i: number, j: number, aI: number, aP: number, ldb: number, ldc: number, acc: number): void {
  const useFma = s.fma && !fmaOff && s.k.gemmFma !== undefined;
  const gemm = useFma ? s.k.gemmFma! : s.k.gemm;
  if (!worthIt(s, p * i * j / 16)) return gemm(a, b, c, p, i, j, aI, aP, ldb, ldc, acc);
  let parts: number[][];
  if (j >= 16 * s.threads) {
    parts = splitRange(j, s.threads, 8).map(([j0, j1]) => [a, b + j0 * 4, c + j0 * 4, p, i, j1 - j0, aI, aP, ldb, ldc, acc]);
  } else {
    parts = splitRange(i, partsFor(s), 4).map(([i0, i1]) => [a + i0 * aI * 4, b, c + i0 * ldc * 4, p, i1 - i0, j, aI, aP, ldb, ldc, acc]);
  }
  s.pool!.run(gemm, useFma ? 'gemmFma' : 'gemm', parts);
}

/**
 * `count` GEMMs as gemmPar's, the k-th on A + k·aStep, B + k·bStep, C + k·cStep (floats), in one
 * hand-over: each thread does its columns (or rows) of every one.
 */
export function gemmBatchPar(s: Simd, a: number, b: number, c: number, p: number, i: number, j: number, aI: number, aP: number, ldb: number, ldc: number, acc: number, count: number, aStep: number, bStep: number, cStep: number): void {
  const fma = s.fma && !fmaOff && s.k.gemmFma !== undefined ? 1 : 0;
  const rest = [count, aStep, bStep, cStep, fma];
  if (!worthIt(s, count * p * i * j / 16)) return s.k.gemmBatch(a, b, c, p, i, j, aI, aP, ldb, ldc, acc, count, aStep, bStep, cStep, fma);
  let parts: number[][];
  if (j >= 16 * s.threads) {
    parts = splitRange(j, s.threads, 8).map(([j0, j1]) => [a, b + j0 * 4, c + j0 * 4, p, i, j1 - j0, aI, aP, ldb, ldc, acc, ...rest]);
  } else {
    parts = splitRange(i, partsFor(s), 4).map(([i0, i1]) => [a + i0 * aI * 4, b, c + i0 * ldc * 4, p, i1 - i0, j, aI, aP, ldb, ldc, acc, ...rest]);
  }
  s.pool!.run(s.k.gemmBatch, 'gemmBatch', parts);
}

/** Depthwise filter gradient (x padded, any filter size) split over channels (multiples of 4). */
export function dwFilterGradPar(s: Simd, xp: number, dy: number, out: number, b: number, hp: number, wp: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number): void {
  const fn = s.k.dwFilterGrad;
  if (!worthIt(s, b * oh * ow * c * kh * kw / 4) || c < 8) return fn(xp, dy, out, b, hp, wp, c, c, oh, ow, kh, kw, sh, sw);
  const parts = splitRange(c, s.threads, 4).map(([c0, c1]) => [xp + c0 * 4, dy + c0 * 4, out + c0 * 4, b, hp, wp, c1 - c0, c, oh, ow, kh, kw, sh, sw]);
  s.pool!.run(fn, 'dwFilterGrad', parts);
}

/** The 3×3 depthwise filter gradient on the unpadded x (depthwise-asm.ts) split over channels. */
export function dwFilterGrad3x3Par(s: Simd, x: number, dy: number, out: number, b: number, h: number, wd: number, c: number, oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, zeros: number): void {
  const fn = s.k.dwFilterGrad3x3;
  const geo = [oh, ow, sh, sw, pt, pl, zeros] as const;
  if (!worthIt(s, b * oh * ow * c * 9 / 4) || c < 8) return fn(x, dy, out, b, h, wd, c, c, ...geo);
  const parts = splitRange(c, s.threads, 4).map(([c0, c1]) => [x + c0 * 4, dy + c0 * 4, out + c0 * 4, b, h, wd, c1 - c0, c, ...geo]);
  s.pool!.run(fn, 'dwFilterGrad3x3', parts);
}

/** Depthwise input gradient (a scatter into dx [b, h, w, c], taps in the padding skipped) split over the batch. */
export function dwInputGradPar(s: Simd, dy: number, w: number, dx: number, b: number, h: number, wd: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number): void {
  if (!worthIt(s, b * h * wd * c) || b < 2) return s.k.dwInputGrad(dy, w, dx, b, h, wd, c, oh, ow, kh, kw, sh, sw, pt, pl);
  const parts = splitRange(b, partsFor(s)).map(([b0, b1]) => [dy + b0 * oh * ow * c * 4, w, dx + b0 * h * wd * c * 4, b1 - b0, h, wd, c, oh, ow, kh, kw, sh, sw, pt, pl]);
  s.pool!.run(s.k.dwInputGrad, 'dwInputGrad', parts);
}

/** im2col split over the batch. */
export function im2colPar(s: Simd, xp: number, dst: number, b: number, hp: number, wp: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number): void {
  const rowFloats = oh * ow * kh * kw * c;
  if (!worthIt(s, b * rowFloats) || b < 2) return s.k.im2col(xp, dst, b, hp, wp, c, oh, ow, kh, kw, sh, sw);
  const parts = splitRange(b, partsFor(s)).map(([b0, b1]) => [xp + b0 * hp * wp * c * 4, dst + b0 * rowFloats * 4, b1 - b0, hp, wp, c, oh, ow, kh, kw, sh, sw]);
  s.pool!.run(s.k.im2col, 'im2col', parts);
}

/** 2-D transpose split over source rows (multiples of 64, the kernel's row chunk). */
export function transpose2dPar(s: Simd, src: number, dst: number, rows: number, cols: number, ss: number, ds: number): void {
  if (!worthIt(s, rows * cols) || rows < 128) return s.k.transpose2d(src, dst, rows, cols, ss, ds);
  const parts = splitRange(rows, partsFor(s), 64).map(([r0, r1]) => [src + r0 * ss * 4, dst + r0 * 4, r1 - r0, cols, ss, ds]);
  s.pool!.run(s.k.transpose2d, 'transpose2d', parts);
}

/** col2im split over the batch (each part zeroes and fills its own images). */
export function col2imPar(s: Simd, cols: number, dxp: number, b: number, hp: number, wp: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number): void {
  const rowFloats = oh * ow * kh * kw * c;
  if (!worthIt(s, b * rowFloats) || b < 2) return s.k.col2im(cols, dxp, b, hp, wp, c, oh, ow, kh, kw, sh, sw);
  const parts = splitRange(b, partsFor(s)).map(([b0, b1]) => [cols + b0 * rowFloats * 4, dxp + b0 * hp * wp * c * 4, b1 - b0, hp, wp, c, oh, ow, kh, kw, sh, sw]);
  s.pool!.run(s.k.col2im, 'col2im', parts);
}

/** A Winograd transform over input channels (filter, filter-gradient output) split over threads. */
export function wgChannelsPar(s: Simd, name: `wgFilter${WinogradTile}` | `wgFilterOut${WinogradTile}`, src: number, dst: number, ci: number, co: number): void {
  const fn = s.k[name];
  if (!worthIt(s, 16 * ci * co) || ci < 2 * s.threads) return fn(src, dst, ci, co, ci * co);
  const parts = splitRange(ci, s.threads).map(([c0, c1]) => [src + c0 * co * 4, dst + c0 * co * 4, c1 - c0, co, ci * co]);
  s.pool!.run(fn, name, parts);
}

/**
 * A Winograd transform of tiles (input, dy) split over the batch: src [b, hp, wp, c], each image's
 * th·tw tiles contiguous in every plane of dst.
 */
export function wgTilesPar(s: Simd, name: `wgInput${WinogradTile}` | `wgDy${WinogradTile}`, src: number, dst: number, b: number, hp: number, wp: number, c: number, th: number, tw: number, stride: number): void {
  const fn = s.k[name];
  if (!worthIt(s, 16 * b * th * tw * c) || b < 2) return fn(src, dst, b, hp, wp, c, th, tw, stride);
  const parts = splitRange(b, partsFor(s)).map(([b0, b1]) => [src + b0 * hp * wp * c * 4, dst + b0 * th * tw * c * 4, b1 - b0, hp, wp, c, th, tw, stride]);
  s.pool!.run(fn, name, parts);
}

/** Winograd output transform split over the batch. */
export function wgOutputPar(s: Simd, m: WinogradTile, mm: number, y: number, bias: number, b: number, oh: number, ow: number, c: number, th: number, tw: number, mStride: number, hasBias: number, lo: number, hi: number): void {
  const name = `wgOutput${m}` as const;
  const fn = s.k[name];
  if (!worthIt(s, 4 * b * th * tw * c) || b < 2) return fn(mm, y, bias, b, oh, ow, c, th, tw, mStride, hasBias, lo, hi);
  const parts = splitRange(b, partsFor(s)).map(([b0, b1]) => [mm + b0 * th * tw * c * 4, y + b0 * oh * ow * c * 4, bias, b1 - b0, oh, ow, c, th, tw, mStride, hasBias, lo, hi]);
  s.pool!.run(fn, name, parts);
}

/** MaxPool's gradient split over the batch (each image's dx is its own). */
export function maxPoolGradPar(s: Simd, x: number, dy: number, dx: number, b: number, h: number, w: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number): void {
  if (!worthIt(s, b * oh * ow * c * kh * kw / 4) || b < 2) return s.k.maxPoolGrad(x, dy, dx, b, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl);
  const parts = splitRange(b, partsFor(s)).map(([b0, b1]) => [x + b0 * h * w * c * 4, dy + b0 * oh * ow * c * 4, dx + b0 * h * w * c * 4, b1 - b0, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl]);
  s.pool!.run(s.k.maxPoolGrad, 'maxPoolGrad', parts);
}

/**
 * The 3×3 depthwise convolution split over the batch, or over output rows for fewer images than
 * threads (depthwise-asm.ts; `zeros`: a row of zero floats the threads share).
 */
export function dwConv3x3Par(s: Simd, x: number, w: number, bias: number, out: number, b: number, h: number, wd: number, c: number, oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, act: number, zeros: number): void {
  const geo = [h, wd, c, oh, ow, sh, sw, pt, pl] as const;
  const one = () => s.k.dwConv3x3(x, w, bias, out, b, ...geo, 0, oh, act, zeros);
  if (!worthIt(s, b * oh * ow * c * 9 / 4)) return one();
  let parts: number[][];
  if (b >= s.threads) {
    parts = splitRange(b, partsFor(s)).map(([b0, b1]) => [x + b0 * h * wd * c * 4, w, bias, out + b0 * oh * ow * c * 4, b1 - b0, ...geo, 0, oh, act, zeros]);
  } else {
    if (oh < s.threads) return one();
    parts = splitRange(oh, partsFor(s)).map(([y0, y1]) => [x, w, bias, out, b, ...geo, y0, y1, act, zeros]);
  }
  s.pool!.run(s.k.dwConv3x3, 'dwConv3x3', parts);
}

/**
 * gemmEpi (C = clamp(A·B + bias, lo, hi), no accumulation) split over rows of C: for a 1×1
 * convolution (rows = pixels) each thread reads its own half of the input and all of the small filter.
 */
export function gemmEpiPar(s: Simd, a: number, b: number, c: number, p: number, i: number, j: number, aI: number, aP: number, ldb: number, ldc: number, bias: number, loBits: number, hiBits: number): void {
  if (!worthIt(s, p * i * j / 16) || i < 8 * s.threads) return s.k.gemmEpi(a, b, c, p, i, j, aI, aP, ldb, ldc, 0, bias, loBits, hiBits);
  const parts = splitRange(i, partsFor(s), 4).map(([i0, i1]) => [a + i0 * aI * 4, b, c + i0 * ldc * 4, p, i1 - i0, j, aI, aP, ldb, ldc, 0, bias, loBits, hiBits]);
  s.pool!.run(s.k.gemmEpi, 'gemmEpi', parts);
}

/**
 * The filter gradient of a convolution over a padded xp [b, hp, wp, ci] with dy [b, oh, ow, co],
 * dW [kh, kw, ci, co], as gemmSum: for each filter row ky and output row, one GEMM of the output
 * row's windows (kw·ci floats each, contiguous in xp, sw·ci apart) with its dy row, all summed in
 * place of an im2col of every window. The batch splits over `threads` (rowFilterGradThreads),
 * each into its own partial dW (thread t > 0 at scratch + (t − 1)·kh·kw·ci·co floats, added into
 * out after), one part per filter row.
 */
export function rowFilterGradPar(s: Simd, xp: number, dy: number, out: number, scratch: number, threads: number, b: number, hp: number, wp: number, ci: number, oh: number, ow: number, co: number, kh: number, kw: number, sh: number, sw: number): void {
  const fma = s.fma && !fmaOff && s.k.gemmFma !== undefined ? 1 : 0;
  const size = kh * kw * ci * co;
  const parts = splitRange(b, threads).flatMap(([b0, b1], t) =>
    Array.from({ length: kh }, (_, ky) => [
      xp + ((b0 * hp + ky) * wp * ci) * 4, dy + b0 * oh * ow * co * 4, (t === 0 ? out : scratch + (t - 1) * size * 4) + ky * kw * ci * co * 4,
      ow, kw * ci, co, 1, sw * ci, co, co, 0, oh, sh * wp * ci, ow * co, b1 - b0, hp * wp * ci, oh * ow * co, fma,
    ]),
  );
  if (threads === 1) for (const p of parts) s.k.gemmSum(...(p as Parameters<typeof s.k.gemmSum>));
  else s.pool!.run(s.k.gemmSum, 'gemmSum', parts);
  for (let t = 1; t < threads; t++) s.k.add(out, scratch + (t - 1) * size * 4, out, size, 0, 0);
}

/** Threads rowFilterGradPar uses for a batch of `b` (each needs a scratch dW but the first). */
export function rowFilterGradThreads(s: Simd, b: number, perImage: number, kh: number): number {
  if (!s.pool || s.threads < 2 || !worthIt(s, (b * perImage) / 16)) return 1;
  return Math.max(1, Math.min(s.threads, b, Math.floor(MAX_PARTS / kh)));
}

/** Whether gemmSplitPPar splits (else one thread, or gemmPar's split, does better). */
export function splitsOverP(s: Simd, p: number, i: number, j: number): boolean {
  return s.pool !== null && s.threads > 1 && worthIt(s, p * i * j / 16) && p >= 64 * s.threads;
}

/**
 * C = A·B (no accumulation) with the sum over p split between the threads (where splitsOverP):
 * thread t > 0 writes its partial product to scratch + (t − 1)·I·J floats, then the partials are
 * added into C. For a filter gradient (p: the pixels, A and B both streamed from memory, C small)
 * each thread then reads half of both operands, where a split over C's columns has every thread
 * read all of A.
 */
export function gemmSplitPPar(s: Simd, a: number, b: number, c: number, p: number, i: number, j: number, aI: number, aP: number, ldb: number, scratch: number): void {
  const useFma = s.fma && !fmaOff && s.k.gemmFma !== undefined;
  const gemm = useFma ? s.k.gemmFma! : s.k.gemm;
  const parts = splitRange(p, s.threads, 16).map(([p0, p1], t) => [a + p0 * aP * 4, b + p0 * ldb * 4, t === 0 ? c : scratch + (t - 1) * i * j * 4, p1 - p0, i, j, aI, aP, ldb, j, 0]);
  s.pool!.run(gemm, useFma ? 'gemmFma' : 'gemm', parts);
  for (let t = 1; t < parts.length; t++) s.k.add(c, scratch + (t - 1) * i * j * 4, c, i * j, 0, 0);
}
