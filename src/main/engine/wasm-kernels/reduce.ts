// Sum and Mean over a contiguous run of axes (bias gradients: [0,1,2]; BatchNorm moments; global
// average pooling: [1,2]). tfjs's wasm kernels first transpose the reduced axes to the end (a full
// scalar copy), then reduce; here a SIMD column sum reads the tensor once, in place.
import * as tf from '@tensorflow/tfjs';
import { asWasm, f32, ptr, simd } from './util.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };

export function makeReduce(kind: 'Sum' | 'Mean', fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = asWasm(args.backend);
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const k = simd(backend);
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const contiguous = axes.length > 0 && axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
    const size = x.shape.reduce((a, b) => a * b, 1);
    if (!k || x.dtype !== 'float32' || !contiguous || size === 0 || axes.length === x.shape.length) {
      return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    const first = axes[0]!;
    const last = axes[axes.length - 1]!;
    const outer = x.shape.slice(0, first).reduce((a, b) => a * b, 1);
    const rows = x.shape.slice(first, last + 1).reduce((a, b) => a * b, 1);
    const cols = x.shape.slice(last + 1).reduce((a, b) => a * b, 1);
    const outShape = keepDims ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : x.shape.filter((_, i) => i < first || i > last);
    const out = backend.makeOutput(outShape, 'float32');
    const src = ptr(backend, x);
    const dst = ptr(backend, out);
    for (let o = 0; o < outer; o++) k.colSum(src + o * rows * cols * 4, dst + o * cols * 4, rows, cols);
    if (kind === 'Mean') {
      const v = f32(backend, out);
      const scale = 1 / rows;
      for (let i = 0; i < v.length; i++) v[i]! *= scale;
    }
    return out;
  };
}
