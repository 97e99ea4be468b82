// Batched inference over image files (eval view: short side to 1.143·size, center crop): the one path
// used by per-epoch validation, `distill eval`, mining and teacher predictions.
import * as tf from '@tensorflow/tfjs';
import { predictFolded } from './models/inference-plan.js';
import { evalViews } from './train/batches.js';

export interface PredictItem {
  key: string;
  path: string;
}

export interface Predictions {
  /** Row-major [n, classes] probabilities (softmax of logits / temperature). */
  probs: Float32Array;
  classes: number;
  n: number;
  /** Items that could not be decoded (skipped, with the reason). */
  failed: { index: number; error: string }[];
}

interface PredictorShape {
  inputSize: number;
  classes: number;
}

/** Runs on the tfjs backend, synchronously (inside tf.tidy): students, TF.js teachers. */
export interface TensorPredictor extends PredictorShape {
  logits(x: tf.Tensor4D): tf.Tensor2D;
}

/** Runs outside tfjs (onnxruntime): pixels in, logits out, row-major [n, classes]. */
export interface HostPredictor extends PredictorShape {
  hostLogits(pixels: Float32Array, n: number): Promise<Float32Array>;
}

/** Anything that maps an NHWC [0,255] batch at `inputSize` to logits: students, trained or imported teachers. */
export type Predictor = TensorPredictor | HostPredictor;

/**
 * Logits of `n` images [n,S,S,3] as a tensor, on either kind of predictor. Callers that run inside
 * tf.tidy call a TensorPredictor's logits directly; this is for code that can await.
 */
export async function predictorLogits(m: Predictor, pixels: Float32Array, n: number): Promise<tf.Tensor2D> {
  const S = m.inputSize;
  const x = pixels.length === n * S * S * 3 ? pixels : pixels.subarray(0, n * S * S * 3);
  if ('hostLogits' in m) return tf.tensor2d(await m.hostLogits(x, n), [n, m.classes]);
  return tf.tidy(() => m.logits(tf.tensor4d(x, [n, S, S, 3])));
}

/** A layers model as a predictor; `outputsProbabilities` for models ending in softmax (we take the log). */
export function layersPredictor(model: tf.LayersModel, inputSize: number, outputsProbabilities = false): TensorPredictor {
  return {
    inputSize,
    classes: model.outputs[0]!.shape[1] as number,
    logits: (x) => {
      // BN folded into the convs, one fused kernel per conv chain (models/inference-plan.ts).
      const out = predictFolded(model, x) as tf.Tensor2D;
      return outputsProbabilities ? tf.log(tf.clipByValue(out, 1e-7, 1)) : out;
    },
  };
}

export async function predictProbs(
  m: Predictor,
  items: PredictItem[],
  opts: { temperature?: number; batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<Predictions> {
  const batchSize = opts.batchSize ?? 64;
  const tau = opts.temperature ?? 1;
  const classes = m.classes;
  const probs = new Float32Array(items.length * classes);
  const failed: Predictions['failed'] = [];
  let done = 0;
  for await (const batch of evalViews(items, m.inputSize, { batchSize })) {
    for (const f of batch.failed) failed.push(f);
    if (batch.indices.length > 0) {
      const n = batch.indices.length;
      const out =
        'hostLogits' in m
          ? softmaxOf(await predictorLogits(m, batch.x, n), tau)
          : tf.tidy(() => tf.softmax(tf.div(m.logits(tf.tensor4d(batch.x, [n, m.inputSize, m.inputSize, 3])), tau)));
      const data = await out.data();
      out.dispose();
      batch.indices.forEach((idx, r) => probs.set(data.subarray(r * classes, (r + 1) * classes), idx * classes));
    }
    done += batch.indices.length + batch.failed.length;
    opts.onProgress?.(done, items.length);
  }
  return { probs, classes, n: items.length, failed };
}

function softmaxOf(logits: tf.Tensor2D, tau: number): tf.Tensor2D {
  const out = tf.tidy(() => tf.softmax(tf.div(logits, tau)) as tf.Tensor2D);
  logits.dispose();
  return out;
}

/** Anything that maps an NHWC [0,255] batch (row-major floats) to probabilities, asynchronously: an exported file's runtime. */
export interface ProbabilityRunner {
  inputSize: number;
  classes: number;
  probabilities(x: Float32Array, n: number): Promise<Float32Array>;
}

/** predictProbs for a runner outside tfjs; also times the runner alone (ms per image, decoding excluded). */
export async function predictProbsWith(
  runner: ProbabilityRunner,
  items: PredictItem[],
  opts: { batchSize?: number } = {},
): Promise<Predictions & { msPerImage: number }> {
  const classes = runner.classes;
  const probs = new Float32Array(items.length * classes);
  const failed: Predictions['failed'] = [];
  let ms = 0;
  let ran = 0;
  for await (const batch of evalViews(items, runner.inputSize, { batchSize: opts.batchSize ?? 32 })) {
    for (const f of batch.failed) failed.push(f);
    const n = batch.indices.length;
    if (n === 0) continue;
    const t0 = performance.now();
    const data = await runner.probabilities(batch.x.subarray(0, n * runner.inputSize * runner.inputSize * 3), n);
    ms += performance.now() - t0;
    ran += n;
    if (data.length !== n * classes) throw new Error(`the model returned ${data.length} values for ${n} images × ${classes} classes`);
    batch.indices.forEach((idx, r) => probs.set(data.subarray(r * classes, (r + 1) * classes), idx * classes));
  }
  return { probs, classes, n: items.length, failed, msPerImage: ran ? ms / ran : 0 };
}

export function argmaxRow(probs: Float32Array, classes: number, row: number): { index: number; confidence: number } {
  let best = 0;
  for (let c = 1; c < classes; c++) if (probs[row * classes + c]! > probs[row * classes + best]!) best = c;
  return { index: best, confidence: probs[row * classes + best]! };
}
