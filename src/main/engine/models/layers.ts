// Small builders shared by the architectures: torch-style symmetric padding, BN with torch's
// hyper-parameters, and a typed `apply`.
import * as tf from '@tensorflow/tfjs';

export type Sym = tf.SymbolicTensor;

/** Applies a layer to one symbolic tensor (tfjs's `apply` returns a wide union). */
export function ap(layer: tf.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/**
 * Zero padding of `p` on every side. tfjs 'same' pads stride-2 convs only at the bottom/right,
 * torch pads symmetrically; padding explicitly + 'valid' reproduces torch's sampling grid exactly.
 */
export function pad(x: Sym, p: number, name: string): Sym {
  return ap(tf.layers.zeroPadding2d({ padding: [[p, p], [p, p]], name }), x);
}

/** BatchNorm with torch's defaults (momentum 0.1 ⇒ keras 0.9, eps 1e-5). */
export function bn(x: Sym, name: string): Sym {
  return ap(tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name }), x);
}

export function act(x: Sym, fn: 'relu' | 'relu6', name: string): Sym {
  return ap(tf.layers.activation({ activation: fn, name }), x);
}
