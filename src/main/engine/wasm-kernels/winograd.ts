// 3×3 stride-1 convolutions by Winograd's F(m×m, 3×3) (transforms in winograd-asm.ts): the forward
// Conv2D / FusedConv2D, the input gradient, which at stride 1 is the same convolution of dy with
// the filter flipped in space and its channels swapped, and the filter gradient (the transposed
// algorithm on the same tiles of x). XNNPACK and the im2col GEMM do 9 multiply-adds per output and
// channel pair; this does (m + 2)²/m² (4 for m = 2, 2.25 for m = 4) plus the transforms, which cost
// O(channels) per tile against the GEMMs' O(channels²).
import type * as tf from '@tensorflow/tfjs';
import { clampBits, type ClampAct } from './clamp.js';
import { gemmBatchPar, transpose2dPar, wgChannelsPar, wgOutputPar, wgTilesPar } from './parallel.js';
import type { ConvInfo } from './geometry.js';
import { ptr, type Scope, type WasmBackend } from './util.js';
import type { Simd } from './simd-module.js';
import { WINOGRAD_TILES, type WinogradTile } from './winograd-matrices.js';

export type WinogradAct = ClampAct;

/**
 * Whether Winograd pays for a 3×3 stride-1 convolution of these channels and output size.
 * The transforms want whole channel vectors, and below 16 channels the GEMMs are too thin to gain.
 * A 1-pixel map is one tile doing at least 16 products for 1 output (9 direct); from 2×2 on it paid
 * in every shape measured.
 */
export function winogradPays(ci: number, co: number, oh: number, ow: number): boolean {
  return ci % 4 === 0 && co % 4 === 0 && ci >= 16 && co >= 16 && oh >= 2 && ow >= 2;
}

/** A 3×3, stride-1, undilated convolution: the shape F(m×m, 3×3) computes. */
export function winogradShape(info: ConvInfo): boolean {
  return info.filterHeight === 3 && info.filterWidth === 3 && info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
}

/**
 * The tile size m for an oh × ow output: the fewest products, ceil(oh/m)·ceil(ow/m)·(m + 2)², the
 * smaller m on a tie (its transforms are cheaper and round less). 24×24 and 12×12 take m = 4 (2.25
 * products per output), 6×6 and 3×3 m = 3 (2.8), 2×2 m = 2.
 */
export function winogradTile(oh: number, ow: number): WinogradTile {
  let best: WinogradTile = 2;
  let cost = Infinity;
  for (const m of WINOGRAD_TILES) {
    const c = Math.ceil(oh / m) * Math.ceil(ow / m) * (m + 2) ** 2;
    if (c < cost) [best, cost] = [m, c];
  }
  return best;
}


const DEFAULT_CHUNK_FLOATS = 1 << 22;
/** Floats of the two transformed operands together above which the batch is done in chunks. */
let chunkFloats = DEFAULT_CHUNK_FLOATS;

/** For tests: a smaller chunk, to run the chunked path on small inputs (null: the default). */
export function setWinogradChunkFloats(n: number | null): void {
  chunkFloats = n ?? DEFAULT_CHUNK_FLOATS;
}

let forcedTile: WinogradTile | null = null;

/** For tests: every convolution with this tile size (null: by winogradTile). */
export function setWinogradTile(m: WinogradTile | null): void {
  forcedTile = m;
}

/** Convolutions done here so far (tests and profiles check which path ran). */
export const winogradCalls = { count: 0 };

/** The tiling of an oh × ow output, and images per chunk for operands of ci + co channels. */
function tiling(n: number, oh: number, ow: number, ci: number, co: number) {
  const m = forcedTile ?? winogradTile(oh, ow);
  const alpha = m + 2;
  const th = Math.ceil(oh / m);
  const tw = Math.ceil(ow / m);
  const perImage = th * tw;
  const chunk = Math.max(1, Math.min(n, Math.floor(chunkFloats / (alpha * alpha * perImage * (ci + co)))));
  // The padded input covers every tile's α×α window.
  return { m, planes: alpha * alpha, th, tw, hp: m * th + 2, wp: m * tw + 2, perImage, chunk };
}

/**
 * x [B, H, W, C] with zeros around it to hp × wp, so every tile's window lies inside (stride 1:
 * oh = h + pads − 2, so hp ≥ h + padTop).
 */
function padToTiles(s: Scope, x: tf.TensorInfo, padTop: number, padLeft: number, hp: number, wp: number): tf.TensorInfo {
  const [, h, w] = x.shape as [number, number, number, number];
  if (padTop < 0 || padLeft < 0 || hp < h + padTop || wp < w + padLeft) throw new Error(`winograd: pads ${padTop}, ${padLeft} do not fit ${h}×${w} in ${hp}×${wp}`);
  return s.run('PadV2', { x }, { paddings: [[0, 0], [padTop, hp - h - padTop], [padLeft, wp - w - padLeft], [0, 0]], constantValue: 0 });
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

/** y [B, oh, ow, Co] = act(conv(x, filter) + bias), 3×3, stride 1, x padded by padTop/padLeft (and zeros past its end). */
export function winogradConv(s: Scope, ctx: Simd, a: WinogradConvArgs): tf.TensorInfo {
  winogradCalls.count++;
  const [n, , , ci] = a.x.shape as [number, number, number, number];
  const [, , f2, f3] = a.filter.shape as [number, number, number, number];
  const co = a.flip ? f2 : f3;
  if ((a.flip ? f3 : f2) !== ci) throw new Error(`winograd: filter ${a.filter.shape.join('×')} does not take ${ci} channels`);
  const { m, planes, th, tw, hp, wp, perImage, chunk } = tiling(n, a.oh, a.ow, ci, co);
  const xp = padToTiles(s, a.x, a.padTop, a.padLeft, hp, wp);
  const u = transformedFilter(s, ctx, a.filter, a.flip, m, ci, co);
  const v = s.keep(s.backend.makeOutput([planes, chunk * perImage, ci], 'float32'));
  const mm = s.keep(s.backend.makeOutput([planes, chunk * perImage, co], 'float32'));
  const y = s.keep(s.backend.makeOutput([n, a.oh, a.ow, co], 'float32'));
  // Addresses after the last allocation (they never move, but take them together).
  const [pu, pv, pm, py, pxp] = [u, v, mm, y, xp].map((t) => ptr(s.backend, t)) as [number, number, number, number, number];
  const pb = a.bias ? ptr(s.backend, a.bias) : 0;
  const [lo, hi] = clampBits(a.act);
  for (let b0 = 0; b0 < n; b0 += chunk) {
    const nb = Math.min(chunk, n - b0);
    const tiles = nb * perImage;
    wgTilesPar(ctx, `wgInput${m}`, pxp + b0 * hp * wp * ci * 4, pv, nb, hp, wp, ci, th, tw, chunk * perImage * ci);
    gemmBatchPar(ctx, pv, pu, pm, ci, tiles, co, ci, 1, co, co, 0, planes, chunk * perImage * ci, ci * co, chunk * perImage * co);
    wgOutputPar(ctx, m, pm, py + b0 * a.oh * a.ow * co * 4, pb, nb, a.oh, a.ow, co, th, tw, chunk * perImage * co, a.bias ? 1 : 0, lo, hi);
  }
  return y;
}

/**
 * Transformed filters of weights used again and again (inference: the same filter tensor batch after
 * batch), by filter dataId, then tile size and direction. A transform is kept from its second use on,
 * so training, whose weights are new tensors every step, keeps none; entries go when their filter is
 * disposed (checked at every transform not found here) and the cache stops growing at CACHE_FLOATS.
 */
const cache = new Map<object, Map<string, tf.TensorInfo>>();
const usedOnce = new WeakMap<object, Set<string>>();
const CACHE_FLOATS = 1 << 26;
let cachedFloats = 0;

function transformedFilter(s: Scope, ctx: Simd, filter: tf.TensorInfo, flip: boolean, m: WinogradTile, ci: number, co: number): tf.TensorInfo {
  const key = `${m}${flip ? 'f' : ''}`;
  const hit = cache.get(filter.dataId)?.get(key);
  if (hit) return hit;
  if (cache.size > 0) dropDisposed(s.backend);
  const planes = (m + 2) ** 2;
  const used = usedOnce.get(filter.dataId) ?? new Set<string>();
  const keep = used.has(key) && cachedFloats + planes * ci * co <= CACHE_FLOATS;
  used.add(key);
  usedOnce.set(filter.dataId, used);
  const u = s.backend.makeOutput([planes, ci, co], 'float32');
  if (keep) {
    const forFilter = cache.get(filter.dataId) ?? new Map<string, tf.TensorInfo>();
    forFilter.set(key, u);
    cache.set(filter.dataId, forFilter);
    cachedFloats += planes * ci * co;
  } else {
    s.keep(u);
  }
  // The filter with Ci rows and Co columns per tap: swapped and flipped for the input gradient.
  let g = filter;
  if (flip) {
    g = s.keep(s.backend.makeOutput([3, 3, ci, co], 'float32'));
    const src = ptr(s.backend, filter);
    const dst = ptr(s.backend, g);
    // Tap t = 3·ky + kx goes to 8 − t: (2 − ky, 2 − kx), the flip in space.
    for (let t = 0; t < 9; t++) transpose2dPar(ctx, src + t * ci * co * 4, dst + (8 - t) * ci * co * 4, co, ci, ci, co);
  }
  wgChannelsPar(ctx, `wgFilter${m}`, ptr(s.backend, g), ptr(s.backend, u), ci, co);
  return u;
}

/** Frees the cached transforms of filters that no longer exist. */
function dropDisposed(backend: WasmBackend): void {
  for (const [dataId, forFilter] of cache) {
    if (backend.dataIdMap.has(dataId)) continue; // (get would move a foreign dataId here)
    for (const u of forFilter.values()) {
      cachedFloats -= u.shape.reduce((a, b) => a * b, 1);
      backend.disposeData(u.dataId);
    }
    cache.delete(dataId);
  }
}

/** For tests: the transforms held for this filter (its dataId), and for all filters. */
export function winogradCachedTransforms(dataId?: object): number {
  if (dataId) return cache.get(dataId)?.size ?? 0;
  let n = 0;
  for (const f of cache.values()) n += f.size;
  return n;
}

/**
 * dW [3, 3, Ci, Co] of y = conv(x, W) (3×3, stride 1, x padded by padTop/padLeft, output oh × ow)
 * for the output gradient dy [B, oh, ow, Co].
 */
export function winogradFilterGrad(s: Scope, ctx: Simd, x: tf.TensorInfo, dy: tf.TensorInfo, padTop: number, padLeft: number): tf.TensorInfo {
  winogradCalls.count++;
  const [n, , , ci] = x.shape as [number, number, number, number];
  const [, oh, ow, co] = dy.shape as [number, number, number, number];
  const { m, planes, th, tw, hp, wp, perImage, chunk } = tiling(n, oh, ow, ci, co);
  const xp = padToTiles(s, x, padTop, padLeft, hp, wp);
  // dy's tiles past its last row or column read zeros.
  const [dh, dw] = [m * th, m * tw];
  const dyp = dh > oh || dw > ow ? s.run('PadV2', { x: dy }, { paddings: [[0, 0], [0, dh - oh], [0, dw - ow], [0, 0]], constantValue: 0 }) : dy;
  const v = s.keep(s.backend.makeOutput([planes, chunk * perImage, ci], 'float32'));
  const ud = s.keep(s.backend.makeOutput([planes, chunk * perImage, co], 'float32'));
  const mm = s.keep(s.backend.makeOutput([planes, ci, co], 'float32'));
  const out = s.keep(s.backend.makeOutput([3, 3, ci, co], 'float32'));
  const [pxp, pdy, pv, pud, pm, pout] = [xp, dyp, v, ud, mm, out].map((t) => ptr(s.backend, t)) as [number, number, number, number, number, number];
  for (let b0 = 0; b0 < n; b0 += chunk) {
    const nb = Math.min(chunk, n - b0);
    const tiles = nb * perImage;
    wgTilesPar(ctx, `wgInput${m}`, pxp + b0 * hp * wp * ci * 4, pv, nb, hp, wp, ci, th, tw, chunk * perImage * ci);
    wgTilesPar(ctx, `wgDy${m}`, pdy + b0 * dh * dw * co * 4, pud, nb, dh, dw, co, th, tw, chunk * perImage * co);
    // M[ξ] (+)= V[ξ]ᵀ·U[ξ]: a sum over the tiles, accumulated across chunks.
    gemmBatchPar(ctx, pv, pud, pm, tiles, ci, co, 1, ci, co, co, b0 > 0 ? 1 : 0, planes, chunk * perImage * ci, chunk * perImage * co, ci * co);
  }
  wgChannelsPar(ctx, `wgFilterOut${m}`, pm, pout, ci, co);
  return out;
}
