// MaxPoolGrad for wasm. tfjs-backend-wasm 4.22's kernel routes gradients to the wrong inputs
// when windows overlap and there is more than one channel, or the pool pads (checked against a
// direct argmax loop, and against tfjs's cpu backend, which is right). This one is that direct
// argmax: every output's gradient goes to the first maximum of its window, padding never wins (as
// on the cpu backend and in PyTorch). SIMD over 4 channels (simd-module.ts) where they come in
// fours and the pool is undilated; a loop over heap views otherwise.
import * as tf from '@tensorflow/tfjs';
import { maxPoolGradPar } from './parallel.js';
import { asWasm, f32, ptr, simdCtx } from './util.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };

export function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const backend = asWasm(args.backend);
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const out = backend.makeOutput(input.shape, 'float32');
  const ctx = simdCtx(backend);
  if (ctx && info.inChannels % 4 === 0 && info.dilationHeight === 1 && info.dilationWidth === 1 && input.dtype === 'float32') {
    maxPoolGradPar(
      ctx, ptr(backend, input), ptr(backend, dy), ptr(backend, out), info.batchSize, info.inHeight, info.inWidth, info.inChannels,
      info.outHeight, info.outWidth, info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    );
    return out;
  }
  const x = f32(backend, input);
  const g = f32(backend, dy);
  const dx = f32(backend, out);
  dx.fill(0);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: kh, effectiveFilterWidth: kw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - pt;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pl;
        for (let ch = 0; ch < c; ch++, o++) {
          let best = -Infinity;
          let at = -1;
          for (let ky = 0; ky < kh; ky += dh) {
            const iy = y0 + ky;
            if (iy < 0 || iy >= h) continue;
            const row = (b * h + iy) * w;
            for (let kx = 0; kx < kw; kx += dw) {
              const ix = x0 + kx;
              if (ix < 0 || ix >= w) continue;
              const i = (row + ix) * c + ch;
              const v = x[i]!;
              if (v > best || at < 0) {
                best = v;
                at = i;
              }
            }
          }
          if (at >= 0) dx[at]! += g[o]!;
        }
      }
    }
  }
  return out;
}
