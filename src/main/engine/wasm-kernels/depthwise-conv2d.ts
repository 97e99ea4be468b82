// DepthwiseConv2dNative and FusedDepthwiseConv2D for wasm: 3×3 filters, channel multiplier 1, C % 4
// = 0, no dilation (every depthwise layer of the project's nets and the pretrained MobileNets) on
// the SIMD kernel of depthwise-asm.ts, bias and relu / relu6 in its output loop; everything else
// goes to tfjs's XNNPACK kernel.
import * as tf from '@tensorflow/tfjs';
import type { ClampAct } from './clamp.js';
import { fusedConvCall, type KernelArgs } from './fused-conv-call.js';
import { DW_ACT } from './depthwise-asm.js';
import { dwConv3x3Par } from './parallel.js';
import { ptr, scopedEffect, type Scope } from './util.js';
import type { Simd } from './simd-module.js';


let enabled = true;

/** Calls that ran the SIMD kernel (for tests). */
export const depthwiseSimdCalls = { count: 0 };

/** For tests and benchmarks: send every depthwise convolution to tfjs's XNNPACK kernel. */
export function setDepthwiseSimdEnabled(on: boolean): void {
  enabled = on;
}

export function makeDepthwiseConv2D(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const plain = () => fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const call = enabled ? fusedConvCall(args, true) : null;
    if (!call) return plain();
    const { backend, ctx, x, filter, bias, act, attrs } = call;
    const [kh, kw, c, m] = filter.shape as [number, number, number, number];
    if (kh !== 3 || kw !== 3 || m !== 1 || c % 4 !== 0) return plain();
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      [kh, kw, c, m],
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
      'channelsLast',
    );
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return plain();
    const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
    const { top: pt, left: pl } = info.padInfo;
    if (sw !== 1 && sw !== 2) return plain(); // the kernel's column loop knows strides 1 and 2
    const out = backend.makeOutput(info.outShape, 'float32');
    if (tf.util.sizeFromShape(info.outShape) === 0) return out;
    scopedEffect(backend, (s) => dwConv3x3Simd(s, ctx, x, filter, bias, out, { oh, ow, sh, sw, pt, pl }, act));
    return out;
  };
}

export function depthwiseSimdOn(): boolean {
  return enabled;
}

/**
 * out [n, oh, ow, c] = act(bias + the 3×3 depthwise correlation of x [n, h, w, c] with filter
 * [3, 3, c, 1] at the given strides and top/left padding). Allocates its scratch in `s`.
 */
export function dwConv3x3Simd(
  s: Scope, ctx: Simd, x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | null, out: tf.TensorInfo,
  g: { oh: number; ow: number; sh: number; sw: number; pt: number; pl: number }, act: ClampAct,
): void {
  const backend = s.backend;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  depthwiseSimdCalls.count++;
  const zeros = s.keep(backend.makeOutput([w * c], 'float32'));
  ctx.k.zero(ptr(backend, zeros), w * c * 4);
  dwConv3x3Par(
    ctx, ptr(backend, x), ptr(backend, filter), bias ? ptr(backend, bias) : 0, ptr(backend, out),
    n, h, w, c, g.oh, g.ow, g.sh, g.sw, g.pt, g.pl, DW_ACT[act], ptr(backend, zeros),
  );
}
