// Conv2DBackpropFilter for wasm (tfjs 4.22 has none): the filter gradient as XNNPACK work.
//
//   dW[kh,kw,ci,co] = Σ_{b,oy,ox} x[b, oy·s+kh−pt, ox·s+kw−pl, ci] · dy[b,oy,ox,co]
//
// 1×1, stride 1, no padding: dW = Xᵀ·dY, a [Ci×M]·[M×Co] matmul (XNNPACK fully-connected).
// Otherwise it is itself a convolution: batch ↔ channels swapped, dy as a (huge) filter dilated by
// the stride. With X' = x as [Ci,H,W,B] and F' = dy as [OH,OW,B,Co], conv(X', F', dilation s)
// is [Ci,KH,KW,Co] → transpose to [KH,KW,Ci,Co]. XNNPACK runs it on all threads.
import * as tf from '@tensorflow/tfjs';
import { cropNegativePads, explicitPad } from './geometry.js';
import { asWasm, scoped, type Scope } from './util.js';

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

export function filterGrad(s: Scope, x: tf.TensorInfo, dy: tf.TensorInfo, info: ReturnType<typeof tf.backend_util.computeConv2DInfo>): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && oh === h && ow === w) {
    const m = n * h * w;
    const xT = s.transpose(s.reshape(x, [m, ci]), [1, 0]);
    const prod = s.run(
      'BatchMatMul',
      { a: s.reshape(xT, [1, ci, m]), b: s.reshape(dy, [1, m, co]) },
      { transposeA: false, transposeB: false },
    );
    return s.reshape(prod, [1, 1, ci, co]);
  }
  // Rows of x past the last window's end play no part: negative bottom padding = cropping.
  const pads = cropNegativePads(s, x, {
    top: pt,
    bottom: kh + sh * (oh - 1) - h - pt,
    left: pl,
    right: kw + sw * (ow - 1) - w - pl,
  });
  const xT = s.transpose(pads.x, [3, 1, 2, 0]);
  const dyT = s.transpose(dy, [1, 2, 0, 3]);
  const out = s.run(
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      dilations: [sh, sw],
      pad: explicitPad(pads.top, pads.bottom, pads.left, pads.right),
      dataFormat: 'NHWC',
    },
  );
  return s.transpose(out, [1, 2, 0, 3]);
}
