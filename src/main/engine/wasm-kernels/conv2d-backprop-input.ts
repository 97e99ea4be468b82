// Conv2DBackpropInput for wasm. tfjs 4.22 ships one, but as a scalar C++ loop on one thread.
// 1×1 filters: dx = dY·Wᵀ on the SIMD gemm (faster than XNNPACK here, which repacks the new
// filter every step), then placed at the strided positions. Larger filters: gemm to columns +
// col2im. Without SIMD: a forward XNNPACK convolution
//   dx = conv(dy padded, filter flipped in space with in/out swapped).
import * as tf from '@tensorflow/tfjs';
import { cropNegativePads, explicitPad, transposedConvInput, upsampleZeros } from './geometry.js';
import { transposeFast } from './transpose.js';
import { col2imPar, gemmPar } from './parallel.js';
import { asWasm, ptr, scoped, simdCtx, type Scope } from './util.js';
import { winogradConv, winogradPays, winogradShape } from './winograd.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };

export function makeConv2DBackpropInput(fallback: tf.KernelFunc | null) {
  return (args: KernelArgs): tf.TensorInfo => {
    const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (attrs.dataFormat === 'NCHW') {
      if (!fallback) throw new Error('wasm Conv2DBackpropInput: NCHW is not supported');
      return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    const backend = asWasm(args.backend);
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    return scoped(backend, (s) => inputGrad(s, dy, filter, info));
  };
}

function inputGrad(s: Scope, dy: tf.TensorInfo, filter: tf.TensorInfo, info: ReturnType<typeof tf.backend_util.computeConv2DInfo>): tf.TensorInfo {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const ctx = simdCtx(s.backend);
  if (ctx && kh === 1 && kw === 1) {
    // dx (before upsampling) = dY·Wᵀ: SIMD gemm on W transposed to [Co, Ci] (small).
    const [n, oh, ow, co] = dy.shape as [number, number, number, number];
    const ci = info.inChannels;
    const wT = transposeFast(s, s.reshape(filter, [ci, co]), [1, 0]);
    const g = s.keep(s.backend.makeOutput([n, oh, ow, ci], 'float32'));
    gemmPar(ctx, ptr(s.backend, dy), ptr(s.backend, wT), ptr(s.backend, g), co, n * oh * ow, ci, co, 1, ci, ci, 0);
    return placeStrided(s, g, info);
  }
  const pads = info.padInfo;
  const padsFit = [pads.top, pads.bottom, pads.left, pads.right].every((p) => p >= 0 && p <= 2);
  if (ctx && winogradShape(info) && padsFit) {
    // Stride 1: dx = conv(dy, the filter flipped with its channels swapped), by Winograd where it pays.
    const co = dy.shape[3]!;
    const { inChannels: ci, inHeight: h, inWidth: w } = info;
    if (winogradPays(co, ci, h, w)) {
      return winogradConv(s, ctx, { x: dy, filter, flip: true, padTop: kh - 1 - info.padInfo.top, padLeft: kw - 1 - info.padInfo.left, oh: h, ow: w, bias: null, act: 'linear' });
    }
  }
  if (ctx) {
    // dcols = dY·Wᵀ ([M, KH·KW·Ci]) on the SIMD gemm, then col2im adds every row into its window.
    // Strided, the convolution form below would work on a dy upsampled with zeros (s² the work).
    // Stride 1 too: XNNPACK packs the new flipped filter on every call, which cost it 2.5–8× at
    // small maps with many channels (ResNet-18's last stage: 190 ms against 24 per batch).
    const [n, oh, ow, co] = dy.shape as [number, number, number, number];
    const { inChannels: ci, inHeight: h, inWidth: w } = info;
    const k = kh * kw * ci;
    const m = n * oh * ow;
    const pt = info.padInfo.top;
    const pl = info.padInfo.left;
    const hp = Math.max(h + pt, (oh - 1) * sh + kh);
    const wp = Math.max(w + pl, (ow - 1) * sw + kw);
    const wT = transposeFast(s, s.reshape(filter, [k, co]), [1, 0]);
    const dcols = s.keep(s.backend.makeOutput([m, k], 'float32'));
    gemmPar(ctx, ptr(s.backend, dy), ptr(s.backend, wT), ptr(s.backend, dcols), co, m, k, co, 1, k, k, 0);
    const dxp = s.keep(s.backend.makeOutput([n, hp, wp, ci], 'float32'));
    col2imPar(ctx, ptr(s.backend, dcols), ptr(s.backend, dxp), n, hp, wp, ci, oh, ow, kh, kw, sh, sw);
    if (hp === h && wp === w) return dxp;
    return s.run('Slice', { x: dxp }, { begin: [0, pt, pl, 0], size: [n, h, w, ci] });
  }
  const flipped = kh > 1 || kw > 1 ? s.run('Reverse', { x: filter }, { dims: [0, 1] }) : filter;
  const wT = s.transpose(flipped, [0, 1, 3, 2]);
  if (kh === 1 && kw === 1) {
    const g = s.run('Conv2D', { x: dy, filter: wT }, { strides: [1, 1], dilations: [1, 1], pad: 'valid', dataFormat: 'NHWC' });
    return placeStrided(s, g, info);
  }
  const p = transposedConvInput(s, dy, info);
  return s.run(
    'Conv2D',
    { x: p.x, filter: wT },
    { strides: [1, 1], dilations: [1, 1], pad: explicitPad(p.top, p.bottom, p.left, p.right), dataFormat: 'NHWC' },
  );
}

/** A 1×1 conv's input gradient g (at output resolution) placed at the strided input positions. */
function placeStrided(s: Scope, g: tf.TensorInfo, info: ReturnType<typeof tf.backend_util.computeConv2DInfo>): tf.TensorInfo {
  const up = upsampleZeros(s, g, info.strideHeight, info.strideWidth);
  // up[r] is dx[r − pt]: shift by the padding, then pad/crop to the input size.
  const top = -info.padInfo.top;
  const left = -info.padInfo.left;
  const bottom = info.inHeight - up.shape[1]! - top;
  const right = info.inWidth - up.shape[2]! - left;
  const c = cropNegativePads(s, up, { top, bottom, left, right });
  if (c.top === 0 && c.bottom === 0 && c.left === 0 && c.right === 0) return c.x;
  return s.run('PadV2', { x: c.x }, { paddings: explicitPad(c.top, c.bottom, c.left, c.right), constantValue: 0 });
}
