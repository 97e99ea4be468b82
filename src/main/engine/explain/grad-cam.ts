// Grad-CAM (Selvaraju et al., 2017) on a classifier's last spatial stage (the input of its last global
// average pooling): the class score's gradient, averaged over positions, weights the stage's channels;
// the weighted sum, ReLU'd and scaled to [0, 1], says where the model looked for that class.
import * as tf from '@tensorflow/tfjs';

export interface CamResult {
  /** The explained class (the model's top class unless one was asked for). */
  classIndex: number;
  /** The model's probabilities for the image. */
  probs: number[];
  /** h × w, in [0, 1] (all zeros where no position supports the class). */
  cam: number[][];
}

interface Split {
  body: tf.LayersModel;
  /** The layers from the global pooling to the output, applied in order. */
  tail: tf.layers.Layer[];
  /** The output is probabilities (a softmax at the end), so the score is log p. */
  softmaxOut: boolean;
}

const splits = new WeakMap<tf.LayersModel, Split>();

/** The model cut before its last global average pooling; the head after it must be a plain chain. */
function split(model: tf.LayersModel): Split {
  const cached = splits.get(model);
  if (cached) return cached;
  const layers = model.layers;
  const gapIndex = layers.map((l) => l.getClassName()).lastIndexOf('GlobalAveragePooling2D');
  if (gapIndex < 0) throw new Error(`${model.name}: no global average pooling after a spatial stage, so it has no Grad-CAM`);
  const gap = layers[gapIndex]!;
  const tail = layers.slice(gapIndex);
  // Each tail layer must take exactly the previous one's output (Dropout, Dense, Activation, Reshape …).
  for (let i = 1; i < tail.length; i++) {
    const input = tail[i]!.input;
    if (Array.isArray(input) || tail[i]!.inboundNodes.length !== 1 || input !== tail[i - 1]!.output) {
      throw new Error(`${model.name}: the head after ${gap.name} is not a plain chain (at ${tail[i]!.name}), so Grad-CAM cannot run it`);
    }
  }
  if (tail[tail.length - 1]!.output !== model.outputs[0]) throw new Error(`${model.name}: ${gap.name} does not lead to the model's output`);
  const last = tail[tail.length - 1]!;
  const cfg = last.getConfig() as { activation?: string };
  const s = { body: tf.model({ inputs: model.inputs, outputs: gap.input as tf.SymbolicTensor }), tail, softmaxOut: cfg.activation === 'softmax' };
  splits.set(model, s);
  return s;
}

export function hasGradCam(model: tf.LayersModel): boolean {
  try {
    split(model);
    return true;
  } catch {
    return false;
  }
}

/** `x`: one image [1, S, S, 3] as the model takes it. */
export function gradCam(model: tf.LayersModel, x: tf.Tensor4D, classIndex?: number): CamResult {
  if (x.shape[0] !== 1) throw new Error(`Grad-CAM explains one image at a time, got a batch of ${x.shape[0]}`);
  const { body, tail, softmaxOut } = split(model);
  const head = (a: tf.Tensor): tf.Tensor2D => tail.reduce((t, l) => l.apply(t, { training: false }) as tf.Tensor, a) as tf.Tensor2D;
  return tf.tidy(() => {
    const a = body.predict(x) as tf.Tensor4D;
    const out = head(a);
    const probs = Array.from((softmaxOut ? out : tf.softmax(out)).dataSync());
    const c = classIndex ?? probs.indexOf(Math.max(...probs));
    if (!(c >= 0 && c < probs.length)) throw new Error(`class ${classIndex} is not one of the model's ${probs.length}`);
    const score = (t: tf.Tensor) => {
      const o = head(t);
      const picked = tf.squeeze(tf.slice(o, [0, c], [1, 1]));
      return (softmaxOut ? tf.log(tf.maximum(picked, 1e-12)) : picked) as tf.Scalar;
    };
    const g = tf.grad(score)(a) as tf.Tensor4D;
    const alpha = tf.mean(g, [1, 2], true); // [1, 1, 1, C]
    const raw = tf.relu(tf.sum(tf.mul(a, alpha), 3)).squeeze([0]) as tf.Tensor2D; // [h, w]
    const max = tf.max(raw).dataSync()[0]!;
    const cam = (max > 0 ? tf.div(raw, max) : raw).arraySync() as number[][];
    return { classIndex: c, probs, cam };
  });
}
