// Conv2D and FusedConv2D for wasm: 3×3 stride-1 convolutions where Winograd pays (winograd.ts),
// with the bias and a relu / relu6 fused into the output transform; everything else goes to
// tfjs's XNNPACK kernel.
import * as tf from '@tensorflow/tfjs';
import { winogradConv, winogradPays, winogradShape, type WinogradAct } from './winograd.js';
import { CLAMP_ACTS } from './clamp.js';
import { asWasm, scoped, simdCtx } from './util.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };
type ConvAttrs = tf.Conv2DAttrs & { activation?: string; leakyreluAlpha?: number };


export function makeConv2D(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const attrs = args.attrs as unknown as ConvAttrs;
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const backend = asWasm(args.backend);
    const ctx = simdCtx(backend);
    const act = attrs.activation ?? 'linear';
    const plain = () => fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    if (!ctx || !x || !filter || preluActivationWeights || !CLAMP_ACTS.has(act) || attrs.dataFormat === 'NCHW') return plain();
    if (x.dtype !== 'float32' || filter.dtype !== 'float32' || (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== filter.shape[3]))) return plain();
    const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
    if (kh !== 3 || kw !== 3 || x.shape.length !== 4) return plain();
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
        bias: bias ?? null,
        act: act as WinogradAct,
      }),
    );
  };
}
