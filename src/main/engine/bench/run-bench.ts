// Training and inference throughput of the project's nets on the active tfjs backend, doing the
// same work as ../shared/bench/torch_ref.py: random input, soft-target cross-entropy, Adam (1e-3),
// one warm-up step, then `iters` timed steps; inference in eval mode.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/select.js';
import { countTrainableParams, createModel, parseNetName } from '../models/index.js';
import { fastAdam } from '../wasm-kernels/fast-adam.js';
import { predictFolded } from '../models/inference-plan.js';
import { BenchLine, type BenchOptions } from './types.js';

export async function* runBench(opts: BenchOptions): AsyncIterable<BenchLine> {
  const report = await initBackend();
  const repeats = opts.repeats ?? 1;
  if (!Number.isInteger(opts.iters) || opts.iters < 1) throw new Error(`iters must be a positive integer (got ${opts.iters})`);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`repeats must be a positive integer (got ${repeats})`);
  for (const net of opts.nets) {
    const spec = parseNetName(net); // throws on an unknown name, before any work
    const { params, infer, train } = measureNet(spec, opts, repeats);
    yield BenchLine.parse({
      net,
      size: opts.size,
      batch: opts.batch,
      params,
      infer_img_s: round1(median(infer)),
      train_img_s: round1(median(train)),
      backend: report.active,
      threads: report.threads,
    });
    // Let the caller print the line before the next net's (long, synchronous) work starts.
    await new Promise((r) => setImmediate(r));
  }
}

export interface BenchNet {
  params: number;
  /** One inference batch as the product runs it. */
  forward(): void;
  /** One training step (forward, backward, Adam). */
  step(): void;
  dispose(): void;
}

/** A net with its random batch and optimizer, doing what torch_ref.py does per call. */
export function benchNet(spec: ReturnType<typeof parseNetName>, o: { size: number; batch: number; classes?: number }): BenchNet {
  const classes = o.classes ?? 2;
  const model = createModel({ ...spec, inputSize: o.size, classes, seed: 1 });
  // Adam (1e-3) as in torch_ref.py; the fused update where the backend has it (tf.train.adam's math).
  const optimizer = fastAdam(1e-3);
  const x = tf.randomUniform([o.batch, o.size, o.size, 3], 0, 255, 'float32', 1);
  const target = tf.tidy(() => tf.softmax(tf.randomNormal([o.batch, classes], 0, 1, 'float32', 2)));
  return {
    params: countTrainableParams(model),
    forward: () => {
      // What the product's inference does (eval, mining, teacher labels): BN folded into the convs.
      const y = predictFolded(model, x);
      y.dataSync(); // wait for the result on asynchronous backends
      y.dispose();
    },
    step: () => {
      const loss = optimizer.minimize(
        () => tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(model.apply(x, { training: true }) as tf.Tensor)), 1))) as tf.Scalar,
        true,
      );
      loss?.dataSync();
      loss?.dispose();
    },
    dispose: () => {
      tf.dispose([x, target]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

function measureNet(spec: ReturnType<typeof parseNetName>, opts: BenchOptions, repeats: number) {
  const net = benchNet(spec, { size: opts.size, batch: opts.batch, ...(opts.classes !== undefined && { classes: opts.classes }) });
  try {
    const infer = timeRepeats(net.forward, opts.iters, repeats, opts.batch);
    const train = timeRepeats(net.step, opts.iters, repeats, opts.batch);
    return { params: net.params, infer, train };
  } finally {
    net.dispose();
  }
}

/** Warm-up before the first measurement: calls, and seconds, at least. */
const WARMUP_CALLS = 3;
const WARMUP_SECONDS = 2;

/**
 * img/s of `repeats` measurements, each one warm-up call then `iters` timed calls, after a warm-up
 * of WARMUP_CALLS calls and WARMUP_SECONDS seconds: V8 keeps compiling tfjs's JavaScript over the
 * first few dozen calls (MobileNetV2's inference gains ~20% from its 10th batch to its 80th), and a
 * run or an evaluation pass makes thousands.
 */
function timeRepeats(fn: () => void, iters: number, repeats: number, batch: number): number[] {
  const t0 = performance.now();
  for (let i = 0; i < WARMUP_CALLS || performance.now() - t0 < WARMUP_SECONDS * 1000; i++) fn();
  const rates: number[] = [];
  for (let r = 0; r < repeats; r++) {
    fn();
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    rates.push((batch * iters) / ((performance.now() - t0) / 1000));
  }
  return rates;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
