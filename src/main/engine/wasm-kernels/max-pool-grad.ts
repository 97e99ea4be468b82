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
  // Channels innermost: each tap's row of c values is read in order (a loop per channel over the
  // window read c-strided values and cost 4–5× as much).
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  const taps: number[] = [];
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - pt;
      for (let ox = 0; ox < ow; ox++, o += c) {
        const x0 = ox * sw - pl;
        taps.length = 0;
        for (let ky = 0; ky < kh; ky += dh) {
          const iy = y0 + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx += dw) {
            const ix = x0 + kx;
            if (ix >= 0 && ix < w) taps.push(((b * h + iy) * w + ix) * c);
          }
        }
        if (taps.length === 0) continue;
        const first = taps[0]!;
        for (let ch = 0; ch < c; ch++) {
          best[ch] = x[first + ch]!;
          at[ch] = first;
        }
        for (let t = 1; t < taps.length; t++) {
          const base = taps[t]!;
          for (let ch = 0; ch < c; ch++) {
            const v = x[base + ch]!;
            if (v > best[ch]!) {
              best[ch] = v;
              at[ch] = base;
            }
          }
        }
        for (let ch = 0; ch < c; ch++) dx[at[ch]! + ch]! += g[o + ch]!;
      }
    }
  }
  return out;
}
