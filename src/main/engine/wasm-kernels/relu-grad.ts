// The gradients of Relu and Relu6 as one pass. tfjs computes them as dy·cast(step(x)) and
// dy·cast((x ≤ 6)·step(x)): 3–5 full-size kernels (plus bool tensors) per activation, ~20% of a
// MobileNetV2 training step on wasm. Here one SIMD kernel on all threads does
// dx = 0 < x ≤ cap ? dy : 0 (NaN where x is NaN, as tfjs gives). Gradients are global in tfjs, so
// other backends (and wasm without SIMD) keep tfjs's formulas.
import * as tf from '@tensorflow/tfjs';
import { elementwisePar } from './parallel.js';
import { asWasm, ptr, simdCtx } from './util.js';

export const RELU_GRAD_KERNEL = 'DistillReluGrad';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };

const bits = new Int32Array(1);
const bitsF = new Float32Array(bits.buffer);

/** The wasm kernel: inputs {dy, x} (float32, same shape), attrs {cap}. */
export function reluGradKernel(args: KernelArgs): tf.TensorInfo {
  const backend = asWasm(args.backend);
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const { cap } = args.attrs as { cap: number };
  const s = simdCtx(backend);
  if (!s) throw new Error(`${RELU_GRAD_KERNEL} needs WASM SIMD`);
  if (dy.dtype !== 'float32' || x.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, x.shape)) {
    throw new Error(`${RELU_GRAD_KERNEL}: dy and x must be float32 of one shape, got ${dy.dtype}[${dy.shape}] and ${x.dtype}[${x.shape}]`);
  }
  const n = tf.util.sizeFromShape(x.shape);
  const out = backend.makeOutput(x.shape, 'float32');
  if (n === 0) return out;
  bitsF[0] = cap;
  const capBits = bits[0]!;
  const [pd, px, po] = [ptr(backend, dy), ptr(backend, x), ptr(backend, out)];
  elementwisePar(s, 'reluGrad', n, (i0, i1) => [pd + i0 * 4, px + i0 * 4, po + i0 * 4, i1 - i0, capBits]);
  return out;
}

function fusedAvailable(dy: tf.Tensor, x: tf.Tensor): boolean {
  if (tf.getBackend() !== 'wasm' || dy.dtype !== 'float32' || x.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, x.shape)) return false;
  return simdCtx(asWasm(tf.backend())) !== null;
}

/** dL/dx of relu (cap = Infinity) or relu6 (cap = 6). */
export function reluGrad(dy: tf.Tensor, x: tf.Tensor, cap: number): tf.Tensor {
  if (fusedAvailable(dy, x)) return tf.engine().runKernel(RELU_GRAD_KERNEL, { dy, x }, { cap }) as tf.Tensor;
  // tfjs's own formulas (Relu_grad.ts, Relu6_grad.ts).
  const mask = cap === Infinity ? tf.step(x) : tf.mul(tf.lessEqual(x, cap), tf.step(x));
  return tf.mul(dy, tf.cast(mask, 'float32'));
}

let registered = false;

/** Replaces the Relu and Relu6 gradients (idempotent). */
export function registerReluGradients(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, cap] of [['Relu', Infinity], ['Relu6', 6]] as const) {
    tf.registerGradient({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const [x] = saved as [tf.Tensor];
        return { x: () => reluGrad(dy as tf.Tensor, x, cap) };
      },
    });
  }
}
