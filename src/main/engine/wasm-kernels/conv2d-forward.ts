// Conv2D and FusedConv2D for wasm: 3×3 stride-1 convolutions where Winograd pays (winograd.ts),
// with the bias and a relu / relu6 fused into the output transform; 1×1 stride-1 convolutions as
// one GEMM over the pixels with bias and activation in its store (pointwise, 1.0–1.5× XNNPACK's at
// MobileNet's shapes on this machine); everything else goes to tfjs's XNNPACK kernel.
import * as tf from '@tensorflow/tfjs';
import { winogradConv, winogradPays, winogradShape } from './winograd.js';
import { clampBits, type ClampAct } from './clamp.js';
import { fusedConvCall, type KernelArgs } from './fused-conv-call.js';
import { gemmEpiPar } from './parallel.js';
import type { Simd } from './simd-module.js';
import { ptr, scoped, type WasmBackend } from './util.js';


let pointwiseOn = true;

/** For tests and benchmarks: send 1×1 convolutions to XNNPACK (or not). */
export function setPointwiseGemmEnabled(on: boolean): void {
  pointwiseOn = on;
}

export function makeConv2D(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const plain = () => fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const call = fusedConvCall(args, false);
    if (!call) return plain();
    const { backend, ctx, x, filter, bias, act, attrs } = call;
    const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
    const pointwiseCase = kh === 1 && kw === 1 && pointwiseOn;
    if (!(pointwiseCase || (kh === 3 && kw === 3))) return plain();
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    if (pointwiseCase) return pointwise(backend, ctx, x, filter, bias, act, info) ?? plain();
    if (!winogradShape(info) || !winogradPays(ci, co, info.outHeight, info.outWidth)) return plain();
    return scoped(backend, (s) =>
      winogradConv(s, ctx, {
        x,
        filter,
        flip: false,
        padTop: info.padInfo.top,
        padLeft: info.padInfo.left,
        oh: info.outHeight,
        ow: info.outWidth,
        bias,
        act,
      }),
    );
  };
}

/** Calls that ran the pointwise GEMM (for tests). */
export const pointwiseCalls = { count: 0 };

/** A 1×1, stride-1, unpadded convolution as Y[pixels, co] = X[pixels, ci]·W[ci, co]; null where it does not apply. */
function pointwise(backend: WasmBackend, ctx: Simd, x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | null, act: ClampAct, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  const { top, bottom, left, right } = info.padInfo;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1 || top || bottom || left || right) return null;
  const { inChannels: ci, outChannels: co } = info;
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  const out = backend.makeOutput(info.outShape, 'float32');
  if (pixels === 0) return out;
  pointwiseCalls.count++;
  const [lo, hi] = clampBits(act);
  gemmEpiPar(ctx, ptr(backend, x), ptr(backend, filter), ptr(backend, out), ci, pixels, co, ci, 1, co, co, bias ? ptr(backend, bias) : 0, lo, hi);
  return out;
}
