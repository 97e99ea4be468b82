// One run from its stored config to a finished record: backend, training set, teacher, students,
// resume from the last checkpoint, the loop, and everything it reports written to SQLite as it happens.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendReport, RunRecord } from '../../shared/domain.js';
import { IMPLEMENTED_METHODS, isImplementedMethod, NOT_IMPLEMENTED_REASON, type RunConfig } from '../../shared/run-config.js';
import type { Store } from '../store/index.js';
import type { MetricInput } from '../store/metrics.js';
import { initBackend } from '../engine/backend/select.js';
import { countTrainableParams, createStudent } from '../engine/models/index.js';
import { loadTeacher } from '../engine/teacher-model.js';
import { loadCheckpointStudent, readCheckpointState, restoreAdapter, restoreOptimizer } from '../engine/train/checkpoint.js';
import { createAdapterModel, type FeatureAdapter } from '../engine/train/feature-adapter.js';
import { checkFeatureSources, featureNeeds } from '../engine/train/feature-needs.js';
import { planHints } from '../engine/train/hint-plan.js';
import { recalibrateBatchNorm } from '../engine/models/recalibrate-bn.js';
import { sampleViews } from '../engine/data/sample-views.js';
import { trainLoop } from '../engine/train/train-loop.js';
import { fastAdam } from '../engine/wasm-kernels/fast-adam.js';
import { layersPredictor, predictProbs } from '../engine/predict.js';
import { persistSharedImageCache } from '../engine/data/index.js';
import { methodUsesTeacher, partStudent } from '../engine/train/method-loss.js';
import { wasmHeapBytes } from '../engine/compat/wasm-heap.js';
import { buildTrainingSet } from './training-set.js';
import { teacherIdentity } from '../engine/train/teacher-cache.js';
import { CancelledError, type Control, type StepMetric, type TrainSink } from '../engine/train/train-types.js';

export interface RunEvents {
  progress(done: number, total: number, message: string): void;
  info(message: string): void;
  /** After each epoch's evaluation: val accuracy and the run's wall seconds so far. */
  epoch?(epoch: number, valAccuracy: number | null, wallSeconds: number): void;
}

/** Signs of progress for a watchdog (see jobs/run-watchdog.ts); the engine only reports them. */
export interface RunLiveness {
  phase(name: 'teacher soft labels' | 'evaluate' | 'checkpoint' | 'pool predictions', epoch?: number): void;
  tick(): void;
  step(epoch: number, step: number): void;
}

/** Test-only: a step that never returns (a synchronous busy loop, like a kernel spinning in malloc). */
function testHangAtStep(): number | null {
  const raw = process.env.DISTILL_TEST_HANG_AT_STEP;
  return raw && /^\d+$/.test(raw) ? Number(raw) : null;
}

/** Test-only: one step that takes N seconds without using the CPU (a trainer starved by other programs): "STEP:SECONDS". */
function testSleepAtStep(): { step: number; seconds: number } | null {
  const m = /^(\d+):(\d+(?:\.\d+)?)$/.exec(process.env.DISTILL_TEST_SLEEP_AT_STEP ?? '');
  return m ? { step: Number(m[1]), seconds: Number(m[2]) } : null;
}

export interface RunOutcome {
  run: RunRecord;
  valAccuracy: number | null;
  epochs: number;
  backend: BackendReport;
  imgPerSec: number | null;
}

/** How many checkpoints besides the best one stay on disk. */
const KEEP_LAST = 2;

function makeOptimizer(config: RunConfig): tf.Optimizer {
  switch (config.optim.name) {
    case 'adam':
      // tf.train.adam's update fused into one SIMD kernel per variable on wasm (bit-identical).
      return fastAdam(config.optim.lr);
    case 'sgd':
      return tf.train.sgd(config.optim.lr);
    case 'momentum':
      return tf.train.momentum(config.optim.lr, 0.9, true);
  }
}

export function runDir(store: Store, runId: number): string {
  return path.join(store.home, 'runs', String(runId));
}

export async function executeRun(
  store: Store,
  runRef: number | string,
  opts: { resume?: boolean; events: RunEvents; signal?: AbortSignal; liveness?: RunLiveness },
): Promise<RunOutcome> {
  let run = store.runs.requireRun(runRef);
  const config = run.config;
  if (!isImplementedMethod(config.method)) {
    throw new Error(`method "${config.method}" ${NOT_IMPLEMENTED_REASON} (trainable: ${IMPLEMENTED_METHODS.join(', ')})`);
  }
  const backend = await initBackend();
  // Decoded images persist in the home across runs: a second run on the same images starts warm.
  persistSharedImageCache(path.join(store.home, 'cache', 'decoded'));
  const started = Date.now();
  const priorWall = run.wallSeconds ?? 0;
  run = store.runs.updateRun(run.id, { backend, pid: process.pid, error: null });
  store.runs.heartbeatRun(run.id, process.pid);
  const live = opts.liveness;
  const hangAt = testHangAtStep();
  const sleepAt = testSleepAtStep();
  store.runControl.setRunControl(run.id, null);

  try {
    const teacherRec = config.teacher ? store.teachers.requireTeacher(config.teacher) : null;
    const miningId =
      config.data.useUnlabeled && config.data.mining && teacherRec
        ? (store.minings.latestMining(run.datasetId, teacherRec.id)?.id ?? null)
        : null;
    if (config.data.mining && config.data.useUnlabeled && miningId == null) {
      throw new Error(`the run asks for mined images but no mining exists for this dataset and teacher; run \`distill mine\` first`);
    }
    const set = buildTrainingSet(store, run.datasetId, config, { miningId });
    const teacher = teacherRec ? await loadTeacher(teacherRec, set.classes) : null;
    opts.events.info(
      `training on ${set.summary.labeled} labeled${config.data.useLabels ? '' : ' (labels unused)'} + ${set.summary.unlabeled} unlabeled images, ` +
        `${set.summary.val} val; backend ${backend.active} (${backend.threads} thread${backend.threads > 1 ? 's' : ''})`,
    );

    const specs = [config.student, ...(config.peers ?? [])];
    const students: tf.LayersModel[] = [];
    for (const [i, s] of specs.entries()) students.push(await createStudent(s, set.classes.length, config.seed * 1000 + i));
    const optimizers = students.map(() => makeOptimizer(config));
    // Feature methods: refused here, before any step, when the teacher or a student cannot give what the
    // loss reads; feature regression trains an adapter from student 0's pooled features to the teacher's.
    const needs = featureNeeds(config);
    const dims = await checkFeatureSources(config.method, needs, teacher, students, config.loss.featureLayers);
    let adapter: FeatureAdapter | undefined;
    if (needs.adapter) adapter = { model: createAdapterModel(dims.studentDim!, dims.teacherDim!, config.seed * 1000 + 999), optimizer: makeOptimizer(config) };
    const hints = config.loss.hint ? await planHints(config.student, students[0]!, teacher, config.loss.hint.layers) : undefined;
    if (hints) opts.events.info(`hints: ${hints.layers.map((l, k) => `${l} (${hints.channels[k]?.length ?? 'all'} channels)`).join(', ')}`);
    store.runs.updateRun(run.id, { params: countTrainableParams(students[0]!), classes: set.classes });
    let startEpoch = 0;
    if (opts.resume) {
      const last = store.checkpoints.lastCheckpoint(run.id);
      if (last && fs.existsSync(last.dir)) {
        const state = readCheckpointState(last.dir);
        for (let i = 0; i < students.length; i++) {
          const saved = await loadCheckpointStudent(last.dir, i);
          students[i]!.setWeights(saved.getWeights());
          saved.dispose();
          await restoreOptimizer(last.dir, i, optimizers[i]!);
        }
        if (adapter && !(await restoreAdapter(last.dir, adapter))) opts.events.info('the checkpoint has no feature adapter: it starts afresh');
        startEpoch = state.epoch + 1;
        // Metrics past the checkpoint belong to the epoch being redone: drop them so none counts twice.
        store.metrics.deleteMetricsAfterStep(run.id, last.step);
        opts.events.info(`resuming after epoch ${state.epoch + 1} (checkpoint ${last.dir})`);
      } else {
        store.metrics.deleteMetricsAfterStep(run.id, 0);
      }
    }
    // A pretrained student's BatchNorm statistics describe ImageNet through the full network: measure
    // them again on these images (a resumed run has its own in the checkpoint).
    const pretrained = specs.flatMap((s, i) => ('arch' in s ? [] : [i]));
    if (pretrained.length && startEpoch === 0) {
      const bySize = new Map<number, { x: Float32Array; n: number }[]>();
      for (const i of pretrained) {
        const size = specs[i]!.inputSize;
        if (!bySize.has(size)) bySize.set(size, await sampleViews(set.train, RECALIBRATION_IMAGES, size));
        const r = recalibrateBatchNorm(students[i]!, bySize.get(size)!);
        opts.events.info(`student ${i}: BatchNorm statistics of ${r.layers} layers measured on ${r.images} training images`);
      }
    }

    store.runs.setRunStatus(run.id, 'running');

    const pending: MetricInput[] = [];
    let lastFlush = Date.now();
    const flush = () => {
      if (pending.length) store.metrics.insertMetrics(run.id, pending.splice(0));
      lastFlush = Date.now();
    };
    let lastValPredictions: { imageId: number; probs: number[] }[] = [];
    let controlCheckedAt = 0;
    let control: Control = 'run';
    const sink: TrainSink = {
      step(step, epoch, metrics: StepMetric[]) {
        if (hangAt !== null && step + 1 === hangAt) for (;;);
        if (sleepAt && step + 1 === sleepAt.step) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, sleepAt.seconds * 1000);
        live?.step(Math.floor(epoch - 1e-9), step + 1);
        const time = Date.now();
        for (const m of metrics) pending.push({ model: m.model, scope: 'step', step: step + 1, epoch, name: m.name, value: m.value, time });
        if (time - lastFlush > 1000) flush();
      },
      async epochEnd(report, save) {
        live?.phase('checkpoint', report.epoch);
        flush();
        const dir = path.join(runDir(store, run.id), `ckpt-epoch-${String(report.epoch + 1).padStart(4, '0')}`);
        await save(dir);
        store.metrics.insertMetrics(
          run.id,
          report.metrics.map((m) => ({ model: Math.max(0, m.model), scope: 'epoch' as const, step: report.step, epoch: report.epoch + 1, name: m.name, value: m.value })),
        );
        store.metrics.insertMetrics(
          run.id,
          Object.entries(report.meanLoss).map(([k, v]) => ({ model: partStudent(k), scope: 'epoch' as const, step: report.step, epoch: report.epoch + 1, name: `train/${k}`, value: v })),
        );
        store.metrics.insertMetrics(run.id, memoryMetrics(report.step, report.epoch + 1));
        store.checkpoints.addCheckpoint({ runId: run.id, epoch: report.epoch, step: report.step, dir, valAccuracy: report.valAccuracy });
        if (report.predictions.length) {
          lastValPredictions = report.predictions.map((p) => ({ imageId: p.imageId, probs: p.probs }));
          store.runPredictions.saveRunPredictions(run.id, set.classes, lastValPredictions);
        }
        const cur = store.runs.requireRun(run.id);
        const best = report.valAccuracy == null ? cur.bestValAccuracy : Math.max(cur.bestValAccuracy ?? 0, report.valAccuracy);
        store.runs.updateRun(run.id, {
          epochsDone: report.epoch + 1,
          lastValAccuracy: report.valAccuracy,
          bestValAccuracy: best,
          wallSeconds: priorWall + (Date.now() - started) / 1000,
        });
        pruneCheckpoints(store, run.id);
        opts.events.epoch?.(report.epoch + 1, report.valAccuracy, priorWall + (Date.now() - started) / 1000);
      },
      control() {
        if (opts.signal?.aborted) return 'cancel';
        const now = Date.now();
        if (now - controlCheckedAt > 250) {
          controlCheckedAt = now;
          const c = store.runControl.getRunControl(run.id);
          const next: Control = c === 'pause' ? 'pause' : c === 'cancel' ? 'cancel' : 'run';
          if (next !== control) {
            if (next === 'pause') store.runs.setRunStatus(run.id, 'paused');
            if (next === 'run' && control === 'pause') store.runs.setRunStatus(run.id, 'running');
            control = next;
          }
        }
        return control;
      },
      progress: (d, t, m) => {
        if (m === 'teacher soft labels') live?.phase('teacher soft labels');
        opts.events.progress(d, t, m);
      },
      phase: (name, epoch) => live?.phase(name, epoch),
      tick: () => live?.tick(),
      info: (message) => opts.events.info(message),
      flag(message) {
        store.runs.addRunFlag(run.id, message);
        opts.events.info(`warning: ${message}`);
      },
    };

    const result = await trainLoop({
      config,
      classes: set.classes,
      train: set.train,
      val: set.val,
      students,
      optimizers,
      teacher,
      adapter,
      hints,
      teacherId: teacherRec ? teacherIdentity(teacherRec) : undefined,
      startEpoch,
      cacheDir: path.join(store.home, 'cache'),
      sink,
    });
    flush();
    // The student's predictions on the unlabeled pool too, for teacher–student agreement in the UI;
    // a method without a teacher has no agreement to show, so it skips the pass.
    const pool = teacherRec && methodUsesTeacher(config.method) ? store.images.listImages(run.datasetId, { role: 'unlabeled' }) : [];
    if (pool.length) {
      opts.events.info(`predicting the unlabeled pool (${pool.length} images) for teacher–student agreement`);
      live?.phase('pool predictions');
      const preds = await predictProbs(layersPredictor(students[0]!, config.student.inputSize), pool.map((i) => ({ key: i.hash, path: i.path })), {
        onProgress: (done, total) => {
          live?.tick();
          opts.events.progress(done, total, 'pool predictions');
        },
      });
      const bad = new Set(preds.failed.map((f) => f.index));
      store.runPredictions.saveRunPredictions(run.id, set.classes, [
        ...lastValPredictions,
        ...pool.flatMap((img, r) => (bad.has(r) ? [] : [{ imageId: img.id, probs: Array.from(preds.probs.subarray(r * preds.classes, (r + 1) * preds.classes)) }])),
      ]);
    }
    const imgPerSec = result.imgPerSec ?? store.runs.requireRun(run.id).imgPerSec;
    store.runs.updateRun(run.id, { imgPerSec, wallSeconds: priorWall + (Date.now() - started) / 1000, pid: null });
    run = store.runs.setRunStatus(run.id, 'completed', null);
    students.forEach((s) => s.dispose());
    adapter?.model.dispose();
    return { run, valAccuracy: run.lastValAccuracy, epochs: run.epochsDone, backend, imgPerSec: run.imgPerSec };
  } catch (err) {
    const wall = priorWall + (Date.now() - started) / 1000;
    if (err instanceof CancelledError) {
      store.runs.updateRun(run.id, { wallSeconds: wall, pid: null });
      store.runs.setRunStatus(run.id, 'cancelled', null);
      store.runControl.setRunControl(run.id, null);
      throw new Error(`run "${run.name}" cancelled; its checkpoints are kept (resume with: distill run --resume ${run.id})`);
    }
    const message = err instanceof Error ? err.message : String(err);
    store.runs.updateRun(run.id, { wallSeconds: wall, pid: null });
    store.runs.setRunStatus(run.id, 'failed', message);
    throw err;
  }
}

/** Where the memory goes, per epoch: process RSS, the WASM heap, live tensors (mem/* metrics, MB). */
function memoryMetrics(step: number, epoch: number): MetricInput[] {
  const time = Date.now();
  const rss = process.memoryUsage().rss;
  const heap = wasmHeapBytes();
  const rows: MetricInput[] = [
    { model: 0, scope: 'epoch', step, epoch, name: 'mem/rss_mb', value: rss / 2 ** 20, time },
    { model: 0, scope: 'epoch', step, epoch, name: 'mem/tensors', value: tf.memory().numTensors, time },
  ];
  if (heap !== null) rows.push({ model: 0, scope: 'epoch', step, epoch, name: 'mem/wasm_heap_mb', value: heap / 2 ** 20, time });
  return rows;
}

function pruneCheckpoints(store: Store, runId: number): void {
  const all = store.checkpoints.listCheckpoints(runId);
  const best = store.checkpoints.bestCheckpoint(runId);
  const keep = new Set([...all.slice(-KEEP_LAST).map((c) => c.id), ...(best ? [best.id] : [])]);
  for (const c of all) {
    if (keep.has(c.id)) continue;
    fs.rmSync(c.dir, { recursive: true, force: true });
    store.checkpoints.removeCheckpoint(c.id);
  }
}

/** Images for BatchNorm recalibration, spread over the training set. */
const RECALIBRATION_IMAGES = 256;
