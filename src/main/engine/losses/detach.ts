// tfjs 4.22 has no tf.stopGradient: an identity whose gradient is zero. The zero only reaches the
// node it was taken from (e.g. a peer's logits, which get their real gradient from their own loss),
// so nothing extra is back-propagated through a network.
import * as tf from '@tensorflow/tfjs';

const detachOp = tf.customGrad((...args) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
});

export function stopGradient<T extends tf.Tensor>(x: T): T {
  return detachOp(x) as T;
}
