// DepthwiseConv2dNativeBackpropFilter for wasm (tfjs 4.22 has none).
//
//   dW[kh,kw,c,m] = Σ_{b,oy,ox} x[b, oy·s+kh−pt, ox·s+kw−pl, c] · dy[b,oy,ox,c·M+m]
//
// As XNNPACK work: every (b,c) pair is one channel of a depthwise convolution of x (as
// [1,H,W,B·C]) with dy (as an OH×OW filter [OH,OW,B·C,M], dilated by the stride), whose KH×KW
// output is then summed over b.
import * as tf from '@tensorflow/tfjs';
import { cropNegativePads, explicitPad } from './geometry.js';
import { depthwiseFilterGradJs } from './reference.js';
import { asWasm, f32, scoped } from './util.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };

/** 'xnnpack' or 'js'; exported for the benchmark that chose between them. */
export const depthwiseFilterStrategy: { mode: 'xnnpack' | 'js' } = { mode: 'xnnpack' };

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
  const dilated = info.dilationHeight !== 1 || info.dilationWidth !== 1;
  if (dilated || depthwiseFilterStrategy.mode === 'js') {
    const out = backend.makeOutput(attrs.filterShape, 'float32');
    depthwiseFilterGradJs(f32(backend, x), f32(backend, dy), f32(backend, out), info);
    return out;
  }
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const m = attrs.filterShape[3];
  return scoped(backend, (s) => {
    const pads = cropNegativePads(s, x, {
      top: info.padInfo.top,
      bottom: kh + sh * (oh - 1) - h - info.padInfo.top,
      left: info.padInfo.left,
      right: kw + sw * (ow - 1) - w - info.padInfo.left,
    });
    const [, hc, wc] = pads.x.shape as [number, number, number, number];
    const xT = s.reshape(s.transpose(pads.x, [1, 2, 0, 3]), [1, hc, wc, n * c]);
    const dyT = s.reshape(s.transpose(dy, [1, 2, 0, 3]), [oh, ow, n * c, m]);
    const out = s.run(
      'DepthwiseConv2dNative',
      { x: xT, filter: dyT },
      { strides: [1, 1], dilations: [sh, sw], pad: explicitPad(pads.top, pads.bottom, pads.left, pads.right) },
    );
    const summed = s.run('Sum', { x: s.reshape(out, [kh, kw, n, c * m]) }, { axis: [2], keepDims: false });
    return s.reshape(summed, [kh, kw, c, m]);
  });
}
