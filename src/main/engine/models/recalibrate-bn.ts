// BatchNorm statistics re-measured on the user's images before a pretrained student trains. A slimmed
// or cut backbone keeps ImageNet's moving means and variances, which no longer describe its inputs
// (other channels were removed upstream, the images are another domain), so in inference mode it
// starts near chance and its moving averages take many steps to catch up. Each BatchNorm, in
// topological order, gets the mean and variance of its own input as the network (with every earlier
// BatchNorm already recalibrated) computes it in inference mode.
import * as tf from '@tensorflow/tfjs';

export interface RecalibrationReport {
  layers: number;
  images: number;
}

/** `batches`: NHWC float32 [n,S,S,3] in [0,255], the model's own input contract. */
export function recalibrateBatchNorm(model: tf.LayersModel, batches: readonly { x: Float32Array; n: number }[]): RecalibrationReport {
  const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  const images = batches.reduce((s, b) => s + b.n, 0);
  if (bns.length === 0 || images === 0) return { layers: 0, images };
  const [, h, w, c] = model.inputs[0]!.shape as number[];
  const inputs = batches.map((b) => tf.tensor4d(b.x.subarray(0, b.n * h! * w! * c!), [b.n, h!, w!, c!]));
  try {
    for (const bn of bns) {
      const probe = tf.model({ inputs: model.inputs, outputs: bn.input as tf.SymbolicTensor });
      const axis = (bn.getConfig().axis as number | number[] | undefined) ?? -1;
      if (Array.isArray(axis) ? axis.length !== 1 || (axis[0] !== -1 && axis[0] !== 3 && axis[0] !== 1) : axis !== -1 && axis !== 3 && axis !== 1) {
        throw new Error(`${bn.name}: BatchNormalization over axis ${JSON.stringify(axis)} is not recalibrated`);
      }
      let sum: Float64Array | null = null;
      let sumSq: Float64Array | null = null;
      let count = 0;
      for (const x of inputs) {
        const [m, v, n] = tf.tidy(() => {
          const y = probe.predict(x) as tf.Tensor;
          const flat = y.reshape([-1, y.shape[y.shape.length - 1]!]);
          // Per-channel sums in float32 over one batch, combined across batches in float64.
          return [flat.sum(0).dataSync() as Float32Array, flat.square().sum(0).dataSync() as Float32Array, flat.shape[0]!] as const;
        });
        sum ??= new Float64Array(m.length);
        sumSq ??= new Float64Array(m.length);
        for (let i = 0; i < m.length; i++) {
          sum[i]! += m[i]!;
          sumSq[i]! += v[i]!;
        }
        count += n;
      }
      const mean = new Float32Array(sum!.length);
      const variance = new Float32Array(sum!.length);
      for (let i = 0; i < mean.length; i++) {
        const mu = sum![i]! / count;
        mean[i] = mu;
        variance[i] = Math.max(0, sumSq![i]! / count - mu * mu);
      }
      // Keras order: [gamma?, beta?, moving_mean, moving_variance]; only the last two change.
      const weights = bn.getWeights();
      const k = weights.length;
      const next = [...weights.slice(0, k - 2), tf.tensor1d(mean), tf.tensor1d(variance)];
      bn.setWeights(next);
      tf.dispose(next.slice(k - 2));
    }
  } finally {
    tf.dispose(inputs);
  }
  return { layers: bns.length, images };
}
