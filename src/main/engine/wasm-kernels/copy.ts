// Identity, Cast, Slice and PadV2 as memory moves. tfjs's wasm Identity copies the tensor (the
// engine calls it to save every tensor a gradient needs), its Slice is a JS loop over a copy of
// the whole input, and its PadV2 goes element by element; the models' explicit zero-padding layers
// make Pad/Slice pairs of every strided conv. Here: aliasing where tfjs's cpu backend aliases too,
// and bulk row copies (memory.copy) otherwise. Other dtypes and cases go to tfjs's kernels.
import * as tf from '@tensorflow/tfjs';
import { asWasm, ptr, simd, type WasmBackend } from './util.js';
import type { SimdKernels } from './simd-module.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };

/** Tensors are immutable, so an identity can share the data (refcounted), as on tfjs's cpu backend. */
function alias(backend: unknown, x: tf.TensorInfo): tf.TensorInfo {
  (backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export function makeIdentity(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    return alias(args.backend, x);
  };
}

export function makeCast(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { dtype } = args.attrs as unknown as tf.CastAttrs;
    if (dtype === x.dtype && dtype !== 'string') return alias(args.backend, x);
    return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  };
}

export function makeSlice(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = asWasm(args.backend);
    const { x } = args.inputs as { x: tf.TensorInfo };
    const k = simd(backend);
    if (!k || x.dtype !== 'float32') return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const attrs = args.attrs as unknown as tf.SliceAttrs;
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
    const out = backend.makeOutput(size, 'float32');
    if (size.some((d) => d === 0)) return out;
    copyRegion(k, backend, x, begin, out, size.map(() => 0), size);
    return out;
  };
}

export function makePad(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = asWasm(args.backend);
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { paddings, constantValue } = args.attrs as unknown as tf.PadV2Attrs;
    const k = simd(backend);
    if (!k || x.dtype !== 'float32' || constantValue !== 0 || x.shape.some((d) => d === 0)) {
      return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    const outShape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
    const out = backend.makeOutput(outShape, 'float32');
    k.zero(ptr(backend, out), outShape.reduce((a, b) => a * b, 1) * 4);
    copyRegion(k, backend, x, x.shape.map(() => 0), out, paddings.map((p) => p[0]), x.shape);
    return out;
  };
}

/** Copies the box `size` at `srcBegin` of src to `dstBegin` of dst (same rank, float32). */
function copyRegion(k: SimdKernels, backend: WasmBackend, src: tf.TensorInfo, srcBegin: number[], dst: tf.TensorInfo, dstBegin: number[], size: number[]): void {
  const rank = size.length;
  const ss = tf.util.computeStrides(src.shape).concat([1]);
  const ds = tf.util.computeStrides(dst.shape).concat([1]);
  // Trailing axes taken whole on both sides fold into one contiguous chunk.
  let j = rank - 1;
  while (j > 0 && srcBegin[j] === 0 && dstBegin[j] === 0 && size[j] === src.shape[j] && size[j] === dst.shape[j]) j--;
  const chunk = size[j]! * ss[j]!;
  const sBase = ptr(backend, src);
  const dBase = ptr(backend, dst);
  // Axis j−1 is copyBlocks' inner loop, j−2 its outer one; axes before that loop here.
  const inner = j >= 1 ? j - 1 : -1;
  const outer = j >= 2 ? j - 2 : -1;
  const nInner = inner >= 0 ? size[inner]! : 1;
  const nOuter = outer >= 0 ? size[outer]! : 1;
  const lead = Math.max(0, j - 2);
  const idx = new Array<number>(lead).fill(0);
  const leadCount = size.slice(0, lead).reduce((a, b) => a * b, 1);
  for (let t = 0; t < leadCount; t++) {
    let so = srcBegin[j]! * ss[j]!;
    let dof = dstBegin[j]! * ds[j]!;
    for (let a = 0; a < lead; a++) {
      so += (srcBegin[a]! + idx[a]!) * ss[a]!;
      dof += (dstBegin[a]! + idx[a]!) * ds[a]!;
    }
    if (inner >= 0) {
      so += srcBegin[inner]! * ss[inner]!;
      dof += dstBegin[inner]! * ds[inner]!;
    }
    if (outer >= 0) {
      so += srcBegin[outer]! * ss[outer]!;
      dof += dstBegin[outer]! * ds[outer]!;
    }
    k.copyBlocks(
      sBase + so * 4,
      dBase + dof * 4,
      nOuter,
      nInner,
      chunk,
      outer >= 0 ? ss[outer]! : 0,
      inner >= 0 ? ss[inner]! : 0,
      outer >= 0 ? ds[outer]! : 0,
      inner >= 0 ? ds[inner]! : 0,
    );
    for (let a = lead - 1; a >= 0; a--) {
      if (++idx[a]! < size[a]!) break;
      idx[a] = 0;
    }
  }
}
