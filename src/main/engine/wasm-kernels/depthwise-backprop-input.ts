// DepthwiseConv2dNativeBackpropInput for wasm (tfjs 4.22 has none). Multiplier 1 and C % 4 = 0
// (every depthwise layer of the project's nets): a SIMD scatter (simd-module.ts dwInputGrad).
// Otherwise a forward XNNPACK depthwise convolution of the zero-upsampled dy with the spatially
// flipped filter; with a channel multiplier M > 1, each of the C·M dy channels is convolved with
// its own flipped tap and the M results of one input channel are summed.
import * as tf from '@tensorflow/tfjs';
import { explicitPad, transposedConvInput } from './geometry.js';
import { depthwiseInputGradJs } from './reference.js';
import { dwInputGradPar } from './parallel.js';
import { asWasm, f32, ptr, scoped, simdCtx } from './util.js';
import { depthwiseSimdOn, dwConv3x3Simd } from './depthwise-conv2d.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };

export function depthwiseConv2dNativeBackpropInput(args: KernelArgs): tf.TensorInfo {
  const backend = asWasm(args.backend);
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    // Dilated depthwise convs are not used by the project's models: plain loop, correct but slow.
    const out = backend.makeOutput(info.inShape, 'float32');
    depthwiseInputGradJs(f32(backend, dy), f32(backend, filter), f32(backend, out), info);
    return out;
  }
  const [kh, kw, c, m] = filter.shape as [number, number, number, number];
  const ctx = simdCtx(backend);
  const { padInfo: p0, strideHeight: sh0, strideWidth: sw0 } = info;
  if (ctx && m === 1 && c % 4 === 0 && kh === 3 && kw === 3 && sh0 === 1 && sw0 === 1 && p0.top <= 2 && p0.left <= 2 && depthwiseSimdOn()) {
    // Stride 1: dx is dy correlated with the spatially flipped filter, padded by 2 − pad (the
    // forward kernel: a gather, 1.1–4.6× the scatter at MobileNet sizes).
    return scoped(backend, (s) => {
      const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] });
      const dx = s.keep(backend.makeOutput(info.inShape, 'float32'));
      dwConv3x3Simd(s, ctx, dy, flipped, null, dx, { oh: info.inHeight, ow: info.inWidth, sh: 1, sw: 1, pt: 2 - p0.top, pl: 2 - p0.left }, 'linear');
      return dx;
    });
  }
  if (ctx && m === 1 && c % 4 === 0) {
    // Scatter form on SIMD: each dy pixel adds its KH×KW window into dx, taps in the padding
    // skipped. (The convolution form below upsamples dy with zeros first: 4× the work at stride 2.)
    const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
    const dx = backend.makeOutput(info.inShape, 'float32');
    dwInputGradPar(ctx, ptr(backend, dy), ptr(backend, filter), ptr(backend, dx), n, h, w, c, oh, ow, kh, kw, sh, sw, info.padInfo.top, info.padInfo.left);
    return dx;
  }
  return scoped(backend, (s) => {
    const flipped = kh > 1 || kw > 1 ? s.run('Reverse', { x: filter }, { dims: [0, 1] }) : filter;
    const p = transposedConvInput(s, dy, info);
    const attrsConv = { strides: [1, 1], dilations: [1, 1], pad: explicitPad(p.top, p.bottom, p.left, p.right) };
    if (m === 1) return s.run('DepthwiseConv2dNative', { x: p.x, filter: flipped }, attrsConv);
    const perChannel = s.run('DepthwiseConv2dNative', { x: p.x, filter: s.reshape(flipped, [kh, kw, c * m, 1]) }, attrsConv);
    const [n, h, w] = perChannel.shape as [number, number, number, number];
    return s.run('Sum', { x: s.reshape(perChannel, [n, h, w, c, m]) }, { axis: [4], keepDims: false });
  });
}
