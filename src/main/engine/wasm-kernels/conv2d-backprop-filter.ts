// Conv2DBackpropFilter for wasm (tfjs 4.22 has none): 3×3 stride 1 by Winograd where it pays
// (winograd.ts), stems (a window row of ≤ 32 floats) as one small GEMM per output row and filter
// row summed in place (no im2col: at 224 px a 7×7 stem's im2col is ~240 MB), otherwise the filter
// gradient as one matmul.
//
//   dW[kh,kw,ci,co] = Σ_{b,oy,ox} x[b, oy·s+kh−pt, ox·s+kw−pl, ci] · dy[b,oy,ox,co]
//                   = (colsᵀ · dY)[(kh,kw,ci), co]
//
// with cols = im2col(x) as [M = B·OH·OW, K = KH·KW·Ci] (x itself for 1×1 / stride 1 / no pad) and
// dY = dy as [M, Co]: a SIMD Aᵀ·B matmul that reads both row-major (simd-module.ts gemm).
// Measured alternatives, all slower: XNNPACK's matmul needs A transposed and packs B afresh on
// every call (dy is new each step), costing 2–3× the product itself; expressing dW as a
// convolution with dy as the filter is 10× slower when Ci is small, as in a stem conv.
import * as tf from '@tensorflow/tfjs';
import { paddedForWindows } from './geometry.js';
import { gemmPar, gemmSplitPPar, im2colPar, rowFilterGradPar, rowFilterGradThreads, splitsOverP } from './parallel.js';
import type { Simd } from './simd-module.js';
import { asWasm, ptr, scoped, simdCtx, type Scope } from './util.js';
import { winogradFilterGrad, winogradPays, winogradShape } from './winograd.js';

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

export function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = asWasm(args.backend);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const nchw = attrs.dataFormat === 'NCHW';
  return scoped(backend, (s) => {
    // NCHW: compute in NHWC (the layout XNNPACK works in).
    const xh = nchw ? s.transpose(x, [0, 2, 3, 1]) : x;
    const dyh = nchw ? s.transpose(dy, [0, 2, 3, 1]) : dy;
    const info = tf.backend_util.computeConv2DInfo(
      xh.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    return filterGrad(s, xh, dyh, info);
  });
}

function filterGrad(s: Scope, x: tf.TensorInfo, dy: tf.TensorInfo, info: ConvInfo): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const m = n * oh * ow;
  const k = kh * kw * ci;
  const direct = kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 && oh === h && ow === w;
  const ctx = simdCtx(s.backend);
  if (ctx && winogradShape(info) && winogradPays(ci, co, oh, ow)) {
    return winogradFilterGrad(s, ctx, x, dy, info.padInfo.top, info.padInfo.left);
  }
  if (ctx && !direct && kw * ci <= ROW_GEMM_MAX_WINDOW && info.dilationHeight === 1 && info.dilationWidth === 1) {
    return rowFilterGrad(s, ctx, x, dy, info);
  }
  const cols = direct ? x : im2col(s, x, info);
  if (ctx) {
    const out = s.keep(s.backend.makeOutput([kh, kw, ci, co], 'float32'));
    const [pc, pd, po] = [ptr(s.backend, cols), ptr(s.backend, dy), ptr(s.backend, out)];
    if (splitsOverP(ctx, m, k, co)) {
      const scratch = s.keep(s.backend.makeOutput([ctx.threads - 1, k * co], 'float32'));
      gemmSplitPPar(ctx, pc, pd, po, m, k, co, 1, k, co, ptr(s.backend, scratch));
    } else {
      gemmPar(ctx, pc, pd, po, m, k, co, 1, k, co, co, 0);
    }
    return out;
  }
  const colsT = s.transpose(s.reshape(cols, [m, k]), [1, 0]);
  const prod = s.run('BatchMatMul', { a: s.reshape(colsT, [1, k, m]), b: s.reshape(dy, [1, m, co]) }, { transposeA: false, transposeB: false });
  return s.reshape(prod, [kh, kw, ci, co]);
}

/**
 * Window rows (kw·ci floats) up to this long go through rowFilterGradPar: the stems (3×3 or 7×7 on
 * 3 channels), whose im2col writes 9–49 floats per input float. Longer rows make the per-row
 * GEMMs' C (kw·ci × co) costly to reload for every output row.
 */
const ROW_GEMM_MAX_WINDOW = 32;

function rowFilterGrad(s: Scope, ctx: Simd, x: tf.TensorInfo, dy: tf.TensorInfo, info: ConvInfo): tf.TensorInfo {
  const { batchSize: n, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { xp, hp, wp } = paddedForWindows(s, x, info);
  const out = s.keep(s.backend.makeOutput([kh, kw, ci, co], 'float32'));
  const threads = rowFilterGradThreads(ctx, n, oh * ow * kh * kw * ci * co, kh);
  const scratch = threads > 1 ? s.keep(s.backend.makeOutput([threads - 1, kh * kw * ci * co], 'float32')) : null;
  rowFilterGradPar(ctx, ptr(s.backend, xp), ptr(s.backend, dy), ptr(s.backend, out), scratch ? ptr(s.backend, scratch) : 0, threads, n, hp, wp, ci, oh, ow, co, kh, kw, sh, sw);
  return out;
}

/** [B,H,W,C] → [B·OH·OW, KH·KW·C]: each output pixel's receptive field as one row. */
function im2col(s: Scope, x: tf.TensorInfo, info: ConvInfo): tf.TensorInfo {
  const { batchSize: n, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { xp, hp, wp } = paddedForWindows(s, x, info);
  const kk = kh * kw * c;
  const cols = s.keep(s.backend.makeOutput([n * oh * ow, kk], 'float32'));
  const ctx = simdCtx(s.backend);
  const src = ptr(s.backend, xp);
  const dst = ptr(s.backend, cols);
  if (ctx) {
    im2colPar(ctx, src, dst, n, hp, wp, c, oh, ow, kh, kw, sh, sw);
    return cols;
  }
  const copy = copyBlocksJs(s);
  for (let b = 0; b < n; b++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        copy(
          src + ((b * hp + ky) * wp + kx) * c * 4,
          dst + (b * oh * ow * kk + (ky * kw + kx) * c) * 4,
          oh, ow, c,
          sh * wp * c, sw * c,
          ow * kk, kk,
        );
      }
    }
  }
  return cols;
}

/** copyBlocks over a Float32Array view, for runtimes without WASM SIMD. */
function copyBlocksJs(s: Scope) {
  return (src: number, dst: number, nOuter: number, nInner: number, chunk: number, sOut: number, sIn: number, dOut: number, dIn: number) => {
    const mem = s.backend.wasm.wasmMemory ?? s.backend.wasm.asm?.memory;
    const heap = new Float32Array(mem ? mem.buffer : s.backend.wasm.HEAPU8.buffer);
    const s0 = src >> 2;
    const d0 = dst >> 2;
    for (let o = 0; o < nOuter; o++) {
      for (let i = 0; i < nInner; i++) {
        const from = s0 + o * sOut + i * sIn;
        heap.copyWithin(d0 + o * dOut + i * dIn, from, from + chunk);
      }
    }
  };
}
