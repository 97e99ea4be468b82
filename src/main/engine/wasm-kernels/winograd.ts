// 3×3 stride-1 convolutions by Winograd's F(2×2, 3×3) (transforms in winograd-asm.ts): the forward
// Conv2D / FusedConv2D, the input gradient, which at stride 1 is the same convolution of dy with
// the filter flipped in space and its channels swapped, and the filter gradient (the transposed
// algorithm, F(3×3, 2×2), on the same tiles of x). XNNPACK and the im2col GEMM do 36
// multiply-adds per 2×2 outputs and channel pair; this does 16 plus the transforms, which cost
// O(channels) per tile against the GEMMs' O(channels²).
import type * as tf from '@tensorflow/tfjs';
import { gemmBatchPar, transpose2dPar, wgDyPar, wgFilterOutPar, wgFilterPar, wgInputPar, wgOutputPar } from './parallel.js';
import { ptr, type Scope } from './util.js';
import type { Simd } from './simd-module.js';

export type WinogradAct = 'linear' | 'relu' | 'relu6';

/**
 * Whether F(2×2, 3×3) pays for a 3×3 stride-1 convolution of these channels and output size.
 * The transforms want whole channel vectors, and below 16 channels the GEMMs are too thin to gain.
 * A 1-pixel map is one tile doing 16 products for 1 output (9 direct); from 2×2 on it paid in every
 * shape measured (a 3×3 map, 16 products for 9 outputs per tile, still ran 1.1–1.9× XNNPACK's speed).
 */
export function winogradPays(ci: number, co: number, oh: number, ow: number): boolean {
  return ci % 4 === 0 && co % 4 === 0 && ci >= 16 && co >= 16 && oh >= 2 && ow >= 2;
}

/** Float32 bits of the clamp bounds of an activation (wgOutput takes them as int32 arguments). */
function bits(v: number): number {
  return new Int32Array(new Float32Array([v]).buffer)[0]!;
}
const CLAMP: Record<WinogradAct, [number, number]> = {
  linear: [bits(-Infinity), bits(Infinity)],
  relu: [bits(0), bits(Infinity)],
  relu6: [bits(0), bits(6)],
};

/** Floats of V and M together above which the batch is done in chunks (keeps them near the caches). */
let CHUNK_FLOATS = 1 << 22;

/** For tests: a smaller chunk, to run the chunked path on small inputs (null: the default). */
export function setWinogradChunkFloats(n: number | null): void {
  CHUNK_FLOATS = n ?? 1 << 22;
}

export interface WinogradConvArgs {
  /** [B, H, W, Ci] */
  x: tf.TensorInfo;
  /**
   * Forward: the filter [3, 3, Ci, Co]. Input gradient (`flip`): the forward filter [3, 3, Co', Ci']
   * whose dy is x here (Ci = Co'); it is used flipped in space with its channel axes swapped.
   */
  filter: tf.TensorInfo;
  flip: boolean;
  padTop: number;
  padLeft: number;
  oh: number;
  ow: number;
  bias: tf.TensorInfo | null;
  act: WinogradAct;
}

/** Convolutions done here so far (tests and profiles check which path ran). */
export const winogradCalls = { count: 0 };

/** y [B, oh, ow, Co] = act(conv(x, filter) + bias), 3×3, stride 1, x padded by padTop/padLeft (and zeros past its end). */
export function winogradConv(s: Scope, ctx: Simd, a: WinogradConvArgs): tf.TensorInfo {
  winogradCalls.count++;
  const [n, h, w, ci] = a.x.shape as [number, number, number, number];
  const [, , f2, f3] = a.filter.shape as [number, number, number, number];
  const co = a.flip ? f2 : f3;
  if ((a.flip ? f3 : f2) !== ci) throw new Error(`winograd: filter ${a.filter.shape.join('×')} does not take ${ci} channels`);
  const th = Math.ceil(a.oh / 2);
  const tw = Math.ceil(a.ow / 2);
  const hp = 2 * th + 2;
  const wp = 2 * tw + 2;
  // Zeros around x so every tile's 4×4 window lies inside (stride 1: oh = h + pads − 2, so hp ≥ h + padTop).
  if (a.padTop < 0 || a.padLeft < 0 || hp < h + a.padTop || wp < w + a.padLeft) throw new Error(`winograd: pads ${a.padTop}, ${a.padLeft} do not fit ${h}×${w} → ${a.oh}×${a.ow}`);
  const xp = s.run('PadV2', { x: a.x }, {
    paddings: [[0, 0], [a.padTop, hp - h - a.padTop], [a.padLeft, wp - w - a.padLeft], [0, 0]],
    constantValue: 0,
  });
  // The filter with Ci rows and Co columns per tap: swapped and flipped for the input gradient.
  let g = a.filter;
  if (a.flip) {
    g = s.keep(s.backend.makeOutput([3, 3, ci, co], 'float32'));
    const src = ptr(s.backend, a.filter);
    const dst = ptr(s.backend, g);
    // Tap t = 3·ky + kx goes to 8 − t: (2 − ky, 2 − kx), the flip in space.
    for (let t = 0; t < 9; t++) transpose2dPar(ctx, src + t * ci * co * 4, dst + (8 - t) * ci * co * 4, co, ci, ci, co);
  }
  const u = s.keep(s.backend.makeOutput([16, ci, co], 'float32'));
  const perImage = th * tw;
  const chunk = Math.max(1, Math.min(n, Math.floor(CHUNK_FLOATS / (16 * perImage * (ci + co)))));
  const v = s.keep(s.backend.makeOutput([16, chunk * perImage, ci], 'float32'));
  const m = s.keep(s.backend.makeOutput([16, chunk * perImage, co], 'float32'));
  const y = s.keep(s.backend.makeOutput([n, a.oh, a.ow, co], 'float32'));
  // Addresses after the last allocation (they never move, but take them together).
  const [pg, pu, pv, pm, py, pxp] = [g, u, v, m, y, xp].map((t) => ptr(s.backend, t)) as [number, number, number, number, number, number];
  const pb = a.bias ? ptr(s.backend, a.bias) : 0;
  wgFilterPar(ctx, pg, pu, ci, co);
  const [lo, hi] = CLAMP[a.act];
  for (let b0 = 0; b0 < n; b0 += chunk) {
    const nb = Math.min(chunk, n - b0);
    const tiles = nb * perImage;
    wgInputPar(ctx, pxp + b0 * hp * wp * ci * 4, pv, nb, hp, wp, ci, th, tw, chunk * perImage * ci);
    gemmBatchPar(ctx, pv, pu, pm, ci, tiles, co, ci, 1, co, co, 0, 16, chunk * perImage * ci, ci * co, chunk * perImage * co);
    wgOutputPar(ctx, pm, py + b0 * a.oh * a.ow * co * 4, pb, nb, a.oh, a.ow, co, th, tw, chunk * perImage * co, a.bias ? 1 : 0, lo, hi);
  }
  return y;
}

/**
 * dW [3, 3, Ci, Co] of y = conv(x, W) (3×3, stride 1, x padded by padTop/padLeft, output oh × ow)
 * for the output gradient dy [B, oh, ow, Co].
 */
export function winogradFilterGrad(s: Scope, ctx: Simd, x: tf.TensorInfo, dy: tf.TensorInfo, padTop: number, padLeft: number): tf.TensorInfo {
  winogradCalls.count++;
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const [, oh, ow, co] = dy.shape as [number, number, number, number];
  const th = Math.ceil(oh / 2);
  const tw = Math.ceil(ow / 2);
  const hp = 2 * th + 2;
  const wp = 2 * tw + 2;
  if (padTop < 0 || padLeft < 0 || hp < h + padTop || wp < w + padLeft) throw new Error(`winograd: pads ${padTop}, ${padLeft} do not fit ${h}×${w} → ${oh}×${ow}`);
  const xp = s.run('PadV2', { x }, { paddings: [[0, 0], [padTop, hp - h - padTop], [padLeft, wp - w - padLeft], [0, 0]], constantValue: 0 });
  // dy's tiles past its last row or column (odd sizes) read zeros.
  const dyp = oh % 2 || ow % 2 ? s.run('PadV2', { x: dy }, { paddings: [[0, 0], [0, 2 * th - oh], [0, 2 * tw - ow], [0, 0]], constantValue: 0 }) : dy;
  const perImage = th * tw;
  const chunk = Math.max(1, Math.min(n, Math.floor(CHUNK_FLOATS / (16 * perImage * (ci + co)))));
  const v = s.keep(s.backend.makeOutput([16, chunk * perImage, ci], 'float32'));
  const ud = s.keep(s.backend.makeOutput([16, chunk * perImage, co], 'float32'));
  const m = s.keep(s.backend.makeOutput([16, ci, co], 'float32'));
  const dw = s.keep(s.backend.makeOutput([3, 3, ci, co], 'float32'));
  const [pxp, pdy, pv, pud, pm, pdw] = [xp, dyp, v, ud, m, dw].map((t) => ptr(s.backend, t)) as [number, number, number, number, number, number];
  for (let b0 = 0; b0 < n; b0 += chunk) {
    const nb = Math.min(chunk, n - b0);
    const tiles = nb * perImage;
    wgInputPar(ctx, pxp + b0 * hp * wp * ci * 4, pv, nb, hp, wp, ci, th, tw, chunk * perImage * ci);
    wgDyPar(ctx, pdy + b0 * 2 * th * 2 * tw * co * 4, pud, nb, 2 * th, 2 * tw, co, th, tw, chunk * perImage * co);
    // M[ξ] (+)= V[ξ]ᵀ·U[ξ]: a sum over the tiles, accumulated across chunks.
    gemmBatchPar(ctx, pv, pud, pm, tiles, ci, co, 1, ci, co, co, b0 > 0 ? 1 : 0, 16, chunk * perImage * ci, chunk * perImage * co, ci * co);
  }
  wgFilterOutPar(ctx, pm, pdw, ci, co);
  return dw;
}
