// tfjs-layers' 'relu6' activation is minimum(6, relu(x)): two kernels forward and both of their
// gradients backward. tf.relu6 is one kernel (SIMD on wasm) with one gradient (one pass on wasm,
// wasm-kernels/relu-grad.ts) and the same values. The activation class is patched in place, so
// models keep `activation: 'relu6'` in model.json.
import * as tf from '@tensorflow/tfjs';
import { patchOnce } from '../compat/index.js';

interface ActivationLike {
  apply(x: tf.Tensor, ...rest: unknown[]): tf.Tensor;
}

export function installFastRelu6(): void {
  patchOnce('relu6.apply', patchRelu6);
}

function patchRelu6(): void {
  const layer = tf.layers.activation({ activation: 'relu6' }) as unknown as { activation?: ActivationLike };
  const proto = layer.activation ? (Object.getPrototypeOf(layer.activation) as ActivationLike) : null;
  if (!proto || typeof proto.apply !== 'function') throw new Error("tfjs-layers' relu6 activation has no apply method");
  proto.apply = function relu6(x: tf.Tensor): tf.Tensor {
    return tf.relu6(x);
  };
}

installFastRelu6();
