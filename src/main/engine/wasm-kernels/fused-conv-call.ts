// What the project's convolution kernels (Winograd, the pointwise GEMM, the SIMD depthwise kernel)
// accept from a Conv2D / FusedConv2D / DepthwiseConv2dNative / FusedDepthwiseConv2D call, checked in
// one place: NHWC float32 tensors, an optional float32 bias of one value per output channel, and an
// activation their output loops clamp to. Anything else (prelu, leaky relu, NCHW, other dtypes)
// goes back to tfjs's kernel.
import * as tf from '@tensorflow/tfjs';
import { CLAMP_ACTS, type ClampAct } from './clamp.js';
import type { Simd } from './simd-module.js';
import { asWasm, ptr, simdCtx, type WasmBackend } from './util.js';

export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };
export type FusedConvAttrs = tf.Conv2DAttrs & { activation?: string; leakyreluAlpha?: number };

export interface FusedConvCall {
  backend: WasmBackend;
  ctx: Simd;
  x: tf.TensorInfo;
  filter: tf.TensorInfo;
  bias: tf.TensorInfo | null;
  act: ClampAct;
  attrs: FusedConvAttrs;
}

/**
 * The call's parts when the project's kernels can take it, else null. Output channels: the
 * filter's last dimension, times its third for a depthwise filter ([kh, kw, c, multiplier]).
 */
export function fusedConvCall(args: KernelArgs, depthwise: boolean): FusedConvCall | null {
  const attrs = args.attrs as unknown as FusedConvAttrs;
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const backend = asWasm(args.backend);
  const ctx = simdCtx(backend);
  const act = attrs.activation ?? 'linear';
  if (!ctx || !x || !filter || preluActivationWeights || !CLAMP_ACTS.has(act) || attrs.dataFormat === 'NCHW') return null;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4 || filter.shape.length !== 4) return null;
  const outChannels = depthwise ? filter.shape[2]! * filter.shape[3]! : filter.shape[3]!;
  // A bias at heap address 0 would read as "no bias" to the kernels that take pointers.
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== outChannels || ptr(backend, bias) === 0)) return null;
  return { backend, ctx, x, filter, bias: bias ?? null, act: act as ClampAct, attrs };
}
