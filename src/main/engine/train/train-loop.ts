// The training loop shared by runs and teacher training: batches with prefetch → loss parts per student
// → one gradient step per optimizer → per-step metrics → per-epoch evaluation and checkpoint.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { temperatureAt } from '../../../shared/run-config.js';
import { learningRateAt } from './lr-schedule.js';
import { setLearningRate } from '../compat/index.js';
import type { TeacherTarget } from '../losses/index.js';
import { methodLoss, methodUsesTeacher, partStudent } from './method-loss.js';
import { mixPixels, mixPlan, mixTargets } from './mixup.js';
import { cachedView, ensureTeacherViews, viewCount, type TeacherViews } from './teacher-cache.js';
import { evaluateEpoch } from './evaluate-epoch.js';
import { sharedImageCache } from '../data/index.js';
import { trainingBatches } from './batches.js';
import type { HostPredictor } from '../predict.js';
import { hostTapTensors, type HostTap } from '../teachers/host-tap.js';
import { saveCheckpoint } from './checkpoint.js';
import { applyTap, tapModel, type TapWant } from '../models/feature-tap.js';
import { featureNeeds, needsLiveTeacher, studentWant, teacherWant } from './feature-needs.js';
import type { HintPlan } from './hint-plan.js';
import {
  CancelledError,
  NonFiniteLossError,
  type LoopInput,
  type StepMetric,
  type Teacher,
} from './train-types.js';

export interface LoopResult {
  epochsDone: number;
  lastValAccuracy: number | null;
  bestValAccuracy: number | null;
  imgPerSec: number | null;
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
  const stepTeacher = teacher && methodUsesTeacher(config.method) ? teacher : null;
  // What the loss reads besides logits (feature-needs.ts); a teacher whose features are read runs live.
  const needs = featureNeeds(config);
  const cache = config.teacherCache === 'views';
  const live = needsLiveTeacher(needs, cache);
  const hints = needs.hints ? input.hints : undefined;
  if (needs.hints && !hints) throw new Error('hints need a hint plan (hint-plan.ts)');
  const want = teacherWant(needs, config.loss.featureLayers?.teacher, hints?.layers);
  // 'views': the teacher's soft labels (and pooled features) come from its cache, so batches render only at the students' size.
  const views = stepTeacher && cache && !live ? await teacherViews(input, stepTeacher, needs.teacherPooled ? want : null) : null;
  // Training now renders at the students' sizes only: the teacher-size squares (the largest) leave memory.
  if (views && stepTeacher && !sizes.includes(stepTeacher.inputSize)) sharedImageCache().forgetSize(stepTeacher.inputSize);
  const viewFn = views ? cachedView(config.seed, views.views, config.data.augment, input.train) : undefined;
  const feedSize = Math.max(...sizes, views ? 0 : (stepTeacher?.inputSize ?? 0));
  const numClasses = input.classes.length;
  const adapter = needs.adapter ? input.adapter : undefined;
  if (needs.adapter && !adapter) throw new Error('feature regression needs an adapter');
  if ((live || needs.teacherPooled) && !stepTeacher?.tapped && !stepTeacher?.hostTapped) throw new Error(`method "${config.method}" reads the teacher's features, and this teacher exposes none`);
  // Students whose features the loss reads run through a tap (same layers and weights, more outputs).
  const studentTaps = students.map((m, i) => {
    const w = studentWant(needs, i, config.loss.featureLayers?.student, hints?.layers);
    return w ? tapModel(m, w, i === 0 ? 'the student' : `peer student ${i}`) : null;
  });
  const varLists = students.map((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
  const adapterVars = adapter ? adapter.model.trainableWeights.map((w) => w.read() as tf.Variable) : [];
  const allVars = [...varLists.flat(), ...adapterVars];

  let best: number | null = null;
  let last: number | null = null;
  let imgSeen = 0;
  let trainSeconds = 0;
  // Images that became unreadable after the import: skipped in their batch, reported once each.
  const skipped = new Set<string>();

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
      view: viewFn,
    })) {
      await waitWhilePaused(input);
      for (const f of batch.failed) {
        if (skipped.has(f.path)) continue;
        skipped.add(f.path);
        sink.flag(`unreadable-image: ${f.path} is skipped (${f.error})`);
      }
      const step = epoch * stepsPerEpoch + stepInEpoch;
      const lr = learningRateAt(schedule, step);
      for (const o of optimizers) setLearningRate(o, lr);
      if (adapter) setLearningRate(adapter.optimizer, lr);
      const t0 = performance.now();
      const n = batch.indices.length;
      if (n === 0) {
        stepInEpoch++; // every file of this batch became unreadable
        continue;
      }

      // A teacher outside tfjs (onnxruntime) runs before the step, on host pixels at its own size.
      // Cached rows where every item has one; else (no cache, or an image that failed when the teacher ran) the live teacher.
      const cachedRows = views?.rows(batch.indices, epoch);
      const cachedFeats = cachedRows && needs.teacherPooled ? views!.featureRows(batch.indices, epoch) : null;
      // Mixup blends the host pixels before any model sees them (the config refuses it with cached teacher views).
      const mix = config.data.augment.mixup ? mixPlan(n, config.seed, step) : null;
      if (mix && cachedRows) throw new Error('mixup: the cached teacher labels unmixed crops; run the teacher live (teacherCache "off")');
      const px = mix ? { ...batch, x: mixPixels(batch.x, n, batch.shape.slice(1).reduce((a, b) => a * b, 1), mix) } : batch;
      const hostTarget = !cachedRows && stepTeacher && 'hostLogits' in stepTeacher ? await hostTeacherPass(stepTeacher, px, feedSize, live || needs.teacherPooled ? want : null) : null;
      const { partNames, partValues, grads } = tf.tidy(() => {
        const x = tf.tensor4d(px.x, px.shape);
        const labels = {
          onehot: tf.oneHot(tf.tensor1d(batch.labels.map((l) => l ?? 0), 'int32'), numClasses).toFloat() as tf.Tensor2D,
          mask: tf.tensor1d(batch.labels.map((l) => (l == null ? 0 : 1))),
        };
        const { onehot, mask } = mix ? mixTargets(labels.onehot, labels.mask, mix) : labels;
        const resized = (s: number): tf.Tensor4D => (s === feedSize ? x : tf.image.resizeBilinear(x, [s, s], true));
        let target: TeacherTarget | null = null;
        let teacherFeats: tf.Tensor2D | undefined;
        let teacherMap: tf.Tensor4D | undefined;
        let teacherHints: tf.Tensor4D[] | undefined;
        if (cachedRows && (!needs.teacherPooled || cachedFeats)) {
          target = { probs: tf.tensor2d(cachedRows, [n, numClasses]) };
          if (cachedFeats) teacherFeats = tf.tensor2d(cachedFeats, [n, views!.featureDim]);
        } else if (hostTarget) {
          // Constants made from the host pass: no gradient reaches them, and this tidy frees them.
          const t = hostTapTensors(hostTarget, n, numClasses);
          target = { logits: t.logits };
          teacherFeats = t.features;
          teacherMap = t.map;
        }
        else if (stepTeacher && (live || needs.teacherPooled) && 'logits' in stepTeacher) {
          // Logits and the features the loss reads, from one live teacher pass.
          const t = stepTeacher.tapped!(resized(stepTeacher.inputSize), want);
          target = { logits: t.logits };
          teacherFeats = t.features;
          teacherMap = t.map;
          if (hints) teacherHints = hintTargets(t.hints, hints);
        } else if (stepTeacher && 'logits' in stepTeacher) target = { logits: stepTeacher.logits(resized(stepTeacher.inputSize)) };
        const names: string[] = [];
        let kept: tf.Tensor[] = [];
        const { value, grads } = tf.variableGrads(() => {
          const pooledStudents: tf.Tensor2D[] = [];
          let studentMap: tf.Tensor4D | undefined;
          let studentHints: tf.Tensor4D[] | undefined;
          const logits = students.map((m, i) => {
            const tap = studentTaps[i];
            if (!tap) return m.apply(resized(sizes[i]!), { training: true }) as tf.Tensor2D;
            const r = applyTap(tap, resized(sizes[i]!), true);
            if (r.pooled) pooledStudents.push(r.pooled);
            if (r.map) studentMap = r.map;
            if (i === 0) studentHints = r.hints;
            return r.out;
          });
          const features = adapter && teacherFeats ? { student: adapter.model.apply(pooledStudents[0]!, { training: true }) as tf.Tensor2D, teacher: teacherFeats } : undefined;
          const pooled = pooledStudents.length ? { students: pooledStudents, teacher: teacherFeats } : undefined;
          const maps = studentMap && teacherMap ? { student: studentMap, teacher: teacherMap } : undefined;
          const epochProgress = epoch + (stepInEpoch + 1) / stepsPerEpoch;
          const hintMaps = studentHints && teacherHints ? { student: studentHints, teacher: teacherHints } : undefined;
          const { total, parts } = methodLoss(config, { logits, onehot, mask, teacher: target, temperature: tau, epochProgress, features, pooled, maps, hints: hintMaps });
          for (const [name, v] of Object.entries(parts)) {
            names.push(name);
            kept.push(tf.keep(v.clone()));
          }
          const wdTerm = weightDecayTerm(students, config.optim.weightDecay);
          return (wdTerm ? tf.add(total, wdTerm) : total) as tf.Scalar;
        }, allVars);
        names.push('total');
        const packed = tf.stack([...kept, value].map((v) => v.reshape([])));
        tf.dispose(kept); // they were kept to leave variableGrads' scope
        kept = [];
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
      if (adapter) {
        const sub: tf.NamedTensorMap = {};
        for (const v of adapterVars) sub[v.name] = grads[v.name]!;
        adapter.optimizer.applyGradients(sub);
      }
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
        metrics.push({ model: partStudent(name), name: `loss/${name}`, value: values[i]! });
        const s = (sums[name] ??= { total: 0, n: 0 });
        s.total += values[i]! * n;
        s.n += n;
      });
      metrics.push({ model: 0, name: 'lr', value: lr }, { model: 0, name: 'img_per_sec', value: n / Math.max(seconds, 1e-6) });
      sink.step(step, (step + 1) / stepsPerEpoch, metrics);
      sink.progress(step + 1, totalSteps, `epoch ${epoch + 1}/${config.epochs}`);
      stepInEpoch++;
    }

    const meanLoss: Record<string, number> = {};
    for (const [k, s] of Object.entries(sums)) meanLoss[k] = s.total / Math.max(1, s.n);
    // A CE stuck at ln(C) for a whole epoch means the model predicts uniformly: worth flagging.
    for (const [k, v] of Object.entries(meanLoss)) {
      if (/^ce(_s\d+)?$/.test(k) && Math.abs(v - Math.log(numClasses)) < 0.01 * Math.log(numClasses)) {
        sink.flag(`loss-stuck: epoch ${epoch + 1}: ${k} stayed at ln(C)=${Math.log(numClasses).toFixed(3)} (uniform predictions; check the learning rate and labels)`);
      }
    }

    sink.phase?.('evaluate', epoch);
    const report = await evaluateEpoch({
      students,
      teacher,
      val: input.val,
      classes: input.classes,
      sizes,
      epoch,
      step: (epoch + 1) * stepsPerEpoch,
      temperature: tau,
      onBatch: () => sink.tick?.(),
    });
    report.meanLoss = meanLoss;
    if (report.valAccuracy != null) {
      last = report.valAccuracy;
      best = best == null ? last : Math.max(best, last);
    }
    await sink.epochEnd(report, (dir) => saveCheckpoint(dir, students, optimizers, { epoch, step: report.step }, adapter));
  }
  return {
    epochsDone: config.epochs,
    lastValAccuracy: last,
    bestValAccuracy: best,
    imgPerSec: trainSeconds > 0 ? imgSeen / trainSeconds : null,
  };
}

/** The teacher's hint maps reduced to the channels the student's maps hold, at the student's map sizes. */
function hintTargets(maps: tf.Tensor4D[] | undefined, plan: HintPlan): tf.Tensor4D[] {
  if (!maps || maps.length !== plan.layers.length) throw new Error(`hints: the teacher gave ${maps?.length ?? 0} maps for ${plan.layers.length} layers`);
  return maps.map((m, k) => {
    const idx = plan.channels[k];
    const kept = idx ? (tf.gather(m, idx, 3) as tf.Tensor4D) : m;
    const [h, w] = plan.sizes[k]!;
    return kept.shape[1] === h && kept.shape[2] === w ? kept : tf.image.resizeBilinear(kept, [h, w], true);
  });
}

/** A host teacher's logits for a batch, and the values `want` reads from the same run: its pixels as they are, or resized to the teacher's size first. */
async function hostTeacherPass(teacher: Teacher & HostPredictor, batch: { x: Float32Array; shape: number[]; indices: number[] }, feedSize: number, want: TapWant | null): Promise<HostTap> {
  const n = batch.indices.length;
  const S = teacher.inputSize;
  const run = async (px: Float32Array): Promise<HostTap> => (want ? teacher.hostTapped!(px, n, want) : { logits: await teacher.hostLogits(px, n) });
  if (S === feedSize) return run(batch.x.subarray(0, n * S * S * 3));
  const t = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(batch.x, [n, feedSize, feedSize, 3]), [S, S], true));
  const px = (await t.data()) as Float32Array;
  t.dispose();
  return run(px);
}

/** The teacher's soft labels for V fixed views (viewCount) of every training image, from the cache or computed now. */
async function teacherViews(input: LoopInput, teacher: Teacher, features: TapWant | null): Promise<TeacherViews> {
  const { config, sink } = input;
  const featureDim = features ? (await teacher.tapInfo?.(features))?.featureDim : null;
  if (features && !featureDim) throw new Error(`teacher "${teacher.name}" gives no pooled features to cache`);
  const views = await ensureTeacherViews({
    ...(features && { features: { layer: features.layer ?? null, dim: featureDim! } }),
    teacher,
    teacherId: input.teacherId ?? '',
    classes: input.classes,
    items: input.train,
    views: viewCount(config.epochs, config.teacherViews),
    seed: config.seed,
    augment: config.data.augment,
    // Without an identity of the weights a file could be mistaken for another teacher's: not persisted.
    dir: input.teacherId ? path.join(input.cacheDir, 'teacher-views') : null,
    batchSize: config.batchSize,
    onProgress: (done, total) => sink.progress(done, total, 'teacher soft labels'),
    between: () => waitWhilePaused(input),
  });
  const all = views.n * views.views;
  sink.info?.(`teacher ${features ? 'soft labels and features' : 'soft labels'}: ${views.computedRows} view(s) computed, ${all - views.computedRows - views.missing.length} reused from the cache`);
  return views;
}
