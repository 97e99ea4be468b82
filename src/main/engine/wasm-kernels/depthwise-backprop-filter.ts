// DepthwiseConv2dNativeBackpropFilter for wasm (tfjs 4.22 has none).
//
//   dW[kh,kw,c,m] = Σ_{b,oy,ox} x[b, oy·s+kh−pt, ox·s+kw−pl, c] · dy[b,oy,ox,c·M+m]
//
// XNNPACK has no kernel shaped like this (re-expressed as a depthwise convolution, dy becomes an
// OH×OW filter, which XNNPACK runs 10–40× slower than the forward pass). So: x is zero-padded
// (tfjs PadV2) and a SIMD loop (simd-module.ts) accumulates 4 channels per instruction over every
// output pixel and tap; 3×3 filters at stride 1 or 2 skip the pad (depthwise-asm.ts, the nine sums
// in registers). Multiplier > 1, channels not a multiple of 4, dilation, or no SIMD:
// a plain loop (reference.ts).
import * as tf from '@tensorflow/tfjs';
import { explicitPad } from './geometry.js';
import { depthwiseFilterGradJs } from './reference.js';
import { dwFilterGrad3x3Par, dwFilterGradPar } from './parallel.js';
import { asWasm, f32, ptr, scoped, simdCtx } from './util.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };

export function depthwiseConv2dNativeBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = asWasm(args.backend);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const ctx = simdCtx(backend);
  const plain = !ctx || attrs.filterShape[3] !== 1 || c % 4 !== 0 || info.dilationHeight !== 1 || info.dilationWidth !== 1;
  if (plain) {
    const out = backend.makeOutput(attrs.filterShape, 'float32');
    depthwiseFilterGradJs(f32(backend, x), f32(backend, dy), f32(backend, out), info);
    return out;
  }
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  if (kh === 3 && kw === 3 && (sw === 1 || sw === 2)) {
    // On x as it is: rows outside the image read a zero row, edge columns check their taps.
    return scoped(backend, (s) => {
      const zeros = s.keep(backend.makeOutput([w * c], 'float32'));
      ctx.k.zero(ptr(backend, zeros), w * c * 4);
      const out = s.keep(backend.makeOutput(attrs.filterShape, 'float32'));
      dwFilterGrad3x3Par(ctx, ptr(backend, x), ptr(backend, dy), ptr(backend, out), n, h, w, c, oh, ow, sh, sw, pt, pl, ptr(backend, zeros));
      return out;
    });
  }
  return scoped(backend, (s) => {
    // Pad so every window lies inside; rows past the last window are never read.
    const pb = Math.max(0, (oh - 1) * sh + kh - h - pt);
    const pr = Math.max(0, (ow - 1) * sw + kw - w - pl);
    const xp = pt || pb || pl || pr ? s.run('PadV2', { x }, { paddings: explicitPad(pt, pb, pl, pr), constantValue: 0 }) : x;
    const out = s.keep(backend.makeOutput(attrs.filterShape, 'float32'));
    dwFilterGradPar(ctx, ptr(backend, xp), ptr(backend, dy), ptr(backend, out), n, h + pt + pb, w + pl + pr, c, oh, ow, kh, kw, sh, sw);
    return out;
  });
}
