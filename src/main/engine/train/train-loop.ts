// The training loop shared by runs and teacher training: batches with prefetch → loss parts per student
// → one gradient step per optimizer → per-step metrics → per-epoch evaluation and checkpoint.
import * as tf from '@tensorflow/tfjs';
import { temperatureAt } from '../../../shared/run-config.js';
import { learningRateAt } from './lr-schedule.js';
import { methodLossParts } from './method-loss.js';
import { evaluateEpoch } from './evaluate-epoch.js';
import { trainingBatches } from './batches.js';
import { saveCheckpoint } from './checkpoint.js';
import {
  CancelledError,
  NonFiniteLossError,
  type LoopInput,
  type StepMetric,
} from './train-types.js';

export interface LoopResult {
  epochsDone: number;
  lastValAccuracy: number | null;
  bestValAccuracy: number | null;
  imgPerSec: number | null;
}

function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  // tfjs optimizers read `learningRate` on every applyGradients call; it is protected only in the typings.
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

function weightDecayTerm(models: tf.LayersModel[], wd: number): tf.Scalar | null {
  if (wd <= 0) return null;
  const kernels = models.flatMap((m) => m.trainableWeights.filter((w) => /kernel/.test(w.name)).map((w) => w.read()));
  if (kernels.length === 0) return null;
  return tf.mul(wd / 2, tf.addN(kernels.map((k) => tf.sum(tf.square(k))))) as tf.Scalar;
}

async function waitWhilePaused(input: LoopInput): Promise<void> {
  let c = input.sink.control();
  while (c === 'pause') {
    await new Promise((r) => setTimeout(r, 300));
    c = input.sink.control();
  }
  if (c === 'cancel') throw new CancelledError('cancelled');
}

export async function trainLoop(input: LoopInput): Promise<LoopResult> {
  const { config, students, optimizers, teacher, sink } = input;
  const batchSize = config.batchSize;
  const stepsPerEpoch = Math.max(1, Math.ceil(input.train.length / batchSize));
  const totalSteps = stepsPerEpoch * config.epochs;
  const schedule = {
    name: config.optim.schedule,
    baseLr: config.optim.lr,
    warmupSteps: Math.round(config.optim.warmupEpochs * stepsPerEpoch),
    totalSteps,
  };
  const sizes = [config.student.inputSize, ...(config.peers ?? []).map((p) => p.inputSize)];
  const feedSize = Math.max(...sizes, teacher?.inputSize ?? 0);
  const numClasses = input.classes.length;
  const varLists = students.map((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
  const allVars = varLists.flat();

  let best: number | null = null;
  let last: number | null = null;
  let imgSeen = 0;
  let trainSeconds = 0;

  for (let epoch = input.startEpoch; epoch < config.epochs; epoch++) {
    const tau = temperatureAt(config.loss.temperature, config.epochs > 1 ? epoch / (config.epochs - 1) : 1);
    const sums: Record<string, { total: number; n: number }> = {};
    let stepInEpoch = 0;
    for await (const batch of trainingBatches(input.train, {
      size: feedSize,
      batchSize,
      seed: config.seed,
      epoch,
      augment: config.data.augment,
      cacheDir: input.cacheDir,
    })) {
      await waitWhilePaused(input);
      const step = epoch * stepsPerEpoch + stepInEpoch;
      const lr = learningRateAt(schedule, step);
      for (const o of optimizers) setLearningRate(o, lr);
      const t0 = performance.now();
      const n = batch.labels.length;

      const { partNames, partValues, grads } = tf.tidy(() => {
        const x = tf.tensor4d(batch.x, [n, feedSize, feedSize, 3]);
        const labelIdx = batch.labels.map((l) => (l == null ? 0 : l));
        const onehot = tf.oneHot(tf.tensor1d(labelIdx, 'int32'), numClasses).toFloat();
        const mask = tf.tensor1d(batch.labels.map((l) => (l == null ? 0 : 1)));
        const resized = (s: number) => (s === feedSize ? x : tf.image.resizeBilinear(x as tf.Tensor4D, [s, s], true));
        const teacherLogits = teacher ? (teacher.model.predict(resized(teacher.inputSize)) as tf.Tensor2D) : null;
        const names: string[] = [];
        let valuesOut: tf.Tensor[] = [];
        const { value, grads } = tf.variableGrads(() => {
          const logits = students.map(
            (m, i) => m.apply(resized(sizes[i]!), { training: true }) as tf.Tensor2D,
          );
          const parts = methodLossParts(config, { logits, onehot, mask, teacherLogits, temperature: tau });
          const totals: tf.Scalar[] = [];
          parts.forEach((p, i) => {
            for (const [name, v] of Object.entries(p.parts)) {
              names.push(`${i}:${name}`);
              valuesOut.push(v);
            }
            totals.push(p.total);
          });
          const wdTerm = weightDecayTerm(students, config.optim.weightDecay);
          const total = tf.addN(wdTerm ? [...totals, wdTerm] : totals) as tf.Scalar;
          valuesOut = valuesOut.map((v) => tf.keep(v.clone()));
          return total;
        }, allVars);
        valuesOut.push(value);
        names.push('total');
        const packed = tf.stack(valuesOut.map((v) => v.reshape([])));
        tf.dispose(valuesOut); // they were kept to leave variableGrads' scope
        return { partNames: names, partValues: packed, grads };
      });
      const values = Array.from(await partValues.data());
      partValues.dispose();
      if (!values.every(Number.isFinite)) {
        tf.dispose(grads);
        throw new NonFiniteLossError(
          `the loss became ${values.find((v) => !Number.isFinite(v))} at epoch ${epoch + 1}, step ${step + 1} (lr ${lr.toExponential(2)}); ` +
            'the last good checkpoint is kept — lower the learning rate or check the teacher',
        );
      }
      varLists.forEach((vars, i) => {
        const sub: tf.NamedTensorMap = {};
        for (const v of vars) sub[v.name] = grads[v.name]!;
        optimizers[i]!.applyGradients(sub);
      });
      tf.dispose(grads);
      const seconds = (performance.now() - t0) / 1000;
      trainSeconds += seconds;
      imgSeen += n;

      const metrics: StepMetric[] = [];
      partNames.forEach((name, i) => {
        if (name === 'total') {
          metrics.push({ model: 0, name: 'loss', value: values[i]! });
          return;
        }
        const [model, part] = name.split(':') as [string, string];
        metrics.push({ model: Number(model), name: `loss/${part}`, value: values[i]! });
        const s = (sums[name] ??= { total: 0, n: 0 });
        s.total += values[i]! * n;
        s.n += n;
      });
      metrics.push({ model: 0, name: 'lr', value: lr }, { model: 0, name: 'img_per_sec', value: n / Math.max(seconds, 1e-6) });
      sink.step(step, epoch, metrics);
      sink.progress(step + 1, totalSteps, `epoch ${epoch + 1}/${config.epochs}`);
      stepInEpoch++;
    }

    const meanLoss: Record<string, number> = {};
    for (const [k, s] of Object.entries(sums)) meanLoss[k] = s.total / Math.max(1, s.n);
    // A CE stuck at ln(C) for a whole epoch means the model predicts uniformly: worth flagging.
    for (const [k, v] of Object.entries(meanLoss)) {
      if (k.endsWith(':ce') && Math.abs(v - Math.log(numClasses)) < 0.01 * Math.log(numClasses)) {
        sink.flag(`epoch ${epoch + 1}: loss ${k.split(':')[1]} of student ${k.split(':')[0]} stuck near ln(C)=${Math.log(numClasses).toFixed(3)} (uniform predictions)`);
      }
    }

    const report = await evaluateEpoch({
      students,
      teacher,
      val: input.val,
      classes: input.classes,
      sizes,
      epoch,
      step: (epoch + 1) * stepsPerEpoch,
      cacheDir: input.cacheDir,
      temperature: tau,
    });
    report.meanLoss = meanLoss;
    if (report.valAccuracy != null) {
      last = report.valAccuracy;
      best = best == null ? last : Math.max(best, last);
    }
    await sink.epochEnd(report, (dir) => saveCheckpoint(dir, students, optimizers, { epoch, step: report.step }));
  }
  return {
    epochsDone: config.epochs,
    lastValAccuracy: last,
    bestValAccuracy: best,
    imgPerSec: trainSeconds > 0 ? imgSeen / trainSeconds : null,
  };
}
