// FusedBatchNorm (inference form: given mean and variance) as one SIMD per-channel affine pass on
// all threads: y = (x − mean)·a + β with a = γ/sqrt(var + ε) (the shift keeps x − mean exact).
// tfjs's wasm kernel is a scalar loop (~6 ns/element). Statistics that are not per-channel vectors
// (or scalars) go to tfjs's kernel.
import * as tf from '@tensorflow/tfjs';
import { channelAffineInfo } from './channel-ops.js';
import { asWasm, f32 } from './util.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };

export function makeFusedBatchNorm(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = asWasm(args.backend);
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const { varianceEpsilon } = args.attrs as unknown as tf.FusedBatchNormAttrs;
    const C = x!.shape[x!.shape.length - 1];
    const perChannel = (t: tf.TensorInfo | undefined) => t == null || (t.dtype === 'float32' && [1, C].includes(t.shape.reduce((a, b) => a * b, 1)));
    if (tf.getBackend() !== 'wasm' || x!.dtype !== 'float32' || C === undefined || ![mean, variance, offset, scale].every(perChannel) || !mean || !variance) {
      return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    const read = (t: tf.TensorInfo | undefined, dflt: number) => {
      if (!t) return () => dflt;
      const v = f32(backend, t);
      return v.length === 1 ? () => v[0]! : (c: number) => v[c]!;
    };
    const [m, v, o, s] = [read(mean, 0), read(variance, 1), read(offset, 0), read(scale, 1)];
    const a = new Float64Array(C);
    const b = new Float64Array(C);
    const shift = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      a[c] = s(c) / Math.sqrt(v(c) + varianceEpsilon);
      b[c] = o(c);
      shift[c] = m(c);
    }
    return channelAffineInfo(backend, x!, a, b, undefined, undefined, shift) ?? (fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo);
  };
}
