// A teacher that runs outside tfjs (onnxruntime) gives its logits and tapped values as host arrays from
// one pass; the step turns them into tfjs tensors inside its tidy. Made from host data, they are
// constants: no gradient can flow into them, and the tidy frees them with the step's other tensors.
import * as tf from '@tensorflow/tfjs';

export interface HostTap {
  /** [n, classes] row-major, in the run's class order. */
  logits: Float32Array;
  /** Pooled features [n, dim] row-major. */
  features?: { data: Float32Array; dim: number };
  /** The spatial map, NHWC [n, H, W, C] like the layers teachers' taps. */
  map?: { data: Float32Array; shape: [number, number, number, number] };
}

/** Tensors of a host tap (call inside tf.tidy). */
export function hostTapTensors(t: HostTap, n: number, classes: number): { logits: tf.Tensor2D; features?: tf.Tensor2D; map?: tf.Tensor4D } {
  return {
    logits: tf.tensor2d(t.logits, [n, classes]),
    ...(t.features && { features: tf.tensor2d(t.features.data, [n, t.features.dim]) }),
    ...(t.map && { map: tf.tensor4d(t.map.data, t.map.shape) }),
  };
}
