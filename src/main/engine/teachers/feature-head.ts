// The head a backbone teacher trains on cached features: linear (logistic regression) by default, or
// one hidden ReLU layer. Class-balanced: each sample's cross-entropy is weighted by n / (C · n_class),
// so a class with few labels weighs as much in the loss as a class with many.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../data/index.js';

export type HeadKind = 'linear' | 'mlp';

export interface HeadOptions {
  kind: HeadKind;
  classes: number;
  epochs: number;
  /** Hidden units of the mlp head. */
  hidden?: number;
  lr?: number;
  /** L2 penalty on the kernels (the head sees few labels; keeps it from memorizing them). */
  l2?: number;
  batchSize?: number;
  seed?: number;
  /** false: plain mean cross-entropy (tests compare the two). */
  balanced?: boolean;
}

/** One Dense layer's trained weights: kernel [in, out] row-major, bias [out]. */
export interface DenseWeights {
  kernel: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
}

export interface TrainedHead {
  kind: HeadKind;
  /** Dense layers in order; the mlp's hidden layer has a ReLU, the last layer outputs logits. */
  layers: DenseWeights[];
  finalLoss: number;
}

export function classWeights(labels: readonly number[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]!++;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? labels.length / (present * c) : 0));
}

function glorot(rng: Rng, inDim: number, outDim: number): Float32Array {
  const limit = Math.sqrt(6 / (inDim + outDim));
  const w = new Float32Array(inDim * outDim);
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-limit, limit);
  return w;
}

/** Logits of the head for features x [n, D] (also used to score val features). */
export function headLogits(head: TrainedHead, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    let y: tf.Tensor2D = x;
    head.layers.forEach((l, i) => {
      y = tf.add(tf.matMul(y, tf.tensor2d(l.kernel, [l.inDim, l.outDim])), tf.tensor1d(l.bias));
      if (i < head.layers.length - 1) y = tf.relu(y);
    });
    return y;
  });
}

export async function trainHead(features: Float32Array, labels: readonly number[], dim: number, o: HeadOptions): Promise<TrainedHead> {
  const n = labels.length;
  if (n === 0) throw new Error('no labeled features to train the head on');
  if (features.length !== n * dim) throw new Error(`features hold ${features.length} values, expected ${n}×${dim}`);
  const C = o.classes;
  const rng = new Rng(o.seed || 0x5eed);
  const dims = o.kind === 'mlp' ? [dim, o.hidden ?? 256, C] : [dim, C];
  const vars = dims.slice(1).map((out, i) => ({
    // A linear head is convex: zero init is as good as any. The mlp needs random init to break symmetry.
    kernel: tf.variable(tf.tensor2d(o.kind === 'mlp' ? glorot(rng, dims[i]!, out) : new Float32Array(dims[i]! * out), [dims[i]!, out])),
    bias: tf.variable(tf.zeros([out])),
  }));
  const w = o.balanced === false ? new Array<number>(C).fill(1) : classWeights(labels, C);
  const X = tf.tensor2d(features, [n, dim]);
  const Y = tf.oneHot(tf.tensor1d(labels as number[], 'int32'), C).toFloat();
  const sampleW = tf.tensor1d(labels.map((l) => w[l]!));
  const optimizer = tf.train.adam(o.lr ?? 0.01);
  const l2 = o.l2 ?? 1e-3;
  const batch = Math.min(o.batchSize ?? 64, n);
  const order = Array.from({ length: n }, (_, i) => i);
  let finalLoss = NaN;
  const forward = (x: tf.Tensor2D): tf.Tensor2D => {
    let y: tf.Tensor2D = x;
    vars.forEach((v, i) => {
      y = tf.add(tf.matMul(y, v.kernel), v.bias);
      if (i < vars.length - 1) y = tf.relu(y);
    });
    return y;
  };
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      let sum = 0;
      let steps = 0;
      for (let s = 0; s < n; s += batch) {
        const idx = tf.tensor1d(order.slice(s, s + batch), 'int32');
        const loss = optimizer.minimize(() => {
          const xb = tf.gather(X, idx);
          const yb = tf.gather(Y, idx);
          const wb = tf.gather(sampleW, idx);
          const ce = tf.neg(tf.sum(tf.mul(yb, tf.logSoftmax(forward(xb))), 1));
          const data = tf.div(tf.sum(tf.mul(ce, wb)), tf.sum(wb));
          const reg = vars.reduce<tf.Scalar>((acc, v) => tf.add(acc, tf.sum(tf.square(v.kernel))), tf.scalar(0));
          return tf.add(data, tf.mul(l2, reg)) as tf.Scalar;
        }, true)!;
        idx.dispose();
        sum += (await loss.data())[0]!;
        loss.dispose();
        steps++;
      }
      finalLoss = sum / steps;
      if (!Number.isFinite(finalLoss)) throw new Error(`the head's loss became ${finalLoss} in epoch ${epoch + 1}; lower the learning rate`);
    }
    const layers: DenseWeights[] = [];
    for (let i = 0; i < vars.length; i++) {
      layers.push({
        kernel: (await vars[i]!.kernel.data()) as Float32Array,
        bias: (await vars[i]!.bias.data()) as Float32Array,
        inDim: dims[i]!,
        outDim: dims[i + 1]!,
      });
    }
    return { kind: o.kind, layers, finalLoss };
  } finally {
    for (const v of vars) {
      v.kernel.dispose();
      v.bias.dispose();
    }
    X.dispose();
    Y.dispose();
    sampleW.dispose();
    optimizer.dispose();
  }
}
