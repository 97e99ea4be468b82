// Loading a stored teacher (trained here, or an imported TF.js layers / graph model or ONNX file) as a
// Predictor whose logits follow the dataset's class order: every use of a teacher (soft labels, the
// views cache, mining, eval, agreement) loads it here. A teacher whose classes differ from the
// dataset's is refused before any training starts.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TeacherRecord } from '../../shared/domain.js';
import { loadModelDir, readModelJson } from './model-io.js';
import { gradCam, hasGradCam } from './explain/grad-cam.js';
import { splitTapOutputs, tapModel, type TapModel, type TapWant } from './models/feature-tap.js';
import { checkedFoldedForward, checkedFoldedOutputs, releasePlan } from './models/inference-plan.js';
import type { TapInfo, Teacher } from './train/train-types.js';
import { z } from 'zod';
import { applyPreprocessing, InputRange, Preprocessing } from './teachers/preprocessing.js';
import { logitsReader, onnxPredictor, openOnnxImageModel } from './teachers/onnx-teacher.js';
import { onnxTaps } from './teachers/onnx-taps.js';

export { InputRange } from './teachers/preprocessing.js';

/** A teacher folder's format and input contract: ours take [0,255] and normalize inside; imported and backbone teachers say what they expect. */
const TeacherInfo = z.object({
  format: z.enum(['layers-model', 'graph-model', 'onnx']),
  inputRange: InputRange,
  mean: Preprocessing.shape.mean,
  std: Preprocessing.shape.std,
});
export type TeacherInfo = z.infer<typeof TeacherInfo>;

/** What loading a teacher needs from its record (eval also loads run students and model paths this way). */
export type TeacherSource = Pick<TeacherRecord, 'name' | 'classes' | 'inputSize' | 'modelDir'>;
const INFO_FILE = 'distill-teacher.json';
/** An imported ONNX teacher's model, in its folder. */
export const ONNX_TEACHER_FILE = 'model.onnx';

export function writeTeacherInfo(dir: string, info: TeacherInfo): void {
  fs.writeFileSync(path.join(dir, INFO_FILE), JSON.stringify(info));
}

function readTeacherInfo(dir: string): TeacherInfo {
  const file = path.join(dir, INFO_FILE);
  if (!fs.existsSync(file)) return { format: readModelJson(dir).format === 'graph-model' ? 'graph-model' : 'layers-model', inputRange: '0-255' };
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read the teacher's input contract (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = TeacherInfo.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: not a valid teacher input contract (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

function preprocessingOf(info: TeacherInfo): Preprocessing {
  return { range: info.inputRange, mean: info.mean, std: info.std };
}

/** Our [0,255] pixels → what the model expects (nothing to do for our own models). */
function scaleInput(x: tf.Tensor4D, p: Preprocessing): tf.Tensor4D {
  return p.range === '0-255' && !p.mean && !p.std ? x : applyPreprocessing(x, p);
}

export function checkTeacherClasses(teacher: Pick<TeacherRecord, 'name' | 'classes'>, datasetClasses: readonly string[]): number[] {
  const a = [...teacher.classes].sort().join(', ');
  const b = [...datasetClasses].sort().join(', ');
  if (a !== b) {
    throw new Error(
      `teacher "${teacher.name}" has classes [${teacher.classes.join(', ')}] but the dataset has [${datasetClasses.join(', ')}]; ` +
        'a teacher must predict exactly the dataset\'s classes',
    );
  }
  // perm[i] = the teacher's output index for dataset class i.
  return datasetClasses.map((c) => teacher.classes.indexOf(c));
}

function endsInSoftmax(model: tf.LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  if (!last) return false;
  const cfg = last.getConfig() as { activation?: unknown };
  return last.getClassName() === 'Softmax' || cfg.activation === 'softmax';
}

/** A graph model's output is probabilities (a softmax head) when it is non-negative and its rows sum to 1. */
function looksLikeProbabilities(out: tf.Tensor2D): boolean {
  return tf.tidy(() => {
    const rowsSumTo1 = tf.less(tf.abs(tf.sub(tf.sum(out, 1), 1)), 1e-3);
    return tf.all(tf.logicalAnd(tf.greater(tf.min(out), -1e-6), rowsSumTo1)).dataSync()[0] === 1;
  });
}

async function loadGraphTeacher(dir: string): Promise<tf.GraphModel> {
  const mj = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const buffers = mj.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const data = tf.io.concatenateArrayBuffers(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
  return tf.loadGraphModel(
    tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest.flatMap((g) => g.weights), weightData: data }),
  );
}

export async function loadTeacher(record: TeacherSource, datasetClasses: readonly string[]): Promise<Teacher> {
  const perm = checkTeacherClasses(record, datasetClasses);
  const identity = perm.every((p, i) => p === i);
  const reorder = (logits: tf.Tensor2D): tf.Tensor2D => (identity ? logits : tf.gather(logits, perm, 1));
  const info = readTeacherInfo(record.modelDir);
  const pre = preprocessingOf(info);
  if (info.format === 'onnx') {
    const m = await openOnnxImageModel(path.join(record.modelDir, ONNX_TEACHER_FILE));
    if (m.input.size !== record.inputSize) throw new Error(`${m.file}: input size ${m.input.size} differs from the teacher's recorded ${record.inputSize}`);
    // One reader, so the logits of plain batches and of tapped ones agree on what the head gives.
    const read = logitsReader(m, perm);
    // Pooled features and spatial maps for the feature methods: graph values returned as extra outputs.
    const taps = onnxTaps(m, pre, read, `teacher "${record.name}"`);
    return {
      name: record.name,
      ...onnxPredictor(m, pre, perm, read),
      tapInfo: taps.info,
      hostTapped: taps.run,
      dispose: () => {
        taps.dispose();
        void m.session.release();
      },
    };
  }
  if (info.format === 'graph-model') {
    const g = await loadGraphTeacher(record.modelDir);
    // Decided on the first batch and kept: the head does not change between batches, and reading the
    // answer back (dataSync) on every batch would stall the backend's pipeline once per step.
    let isProb: boolean | null = null;
    return {
      name: record.name,
      inputSize: record.inputSize,
      classes: datasetClasses.length,
      logits: (x) => {
        const out = g.predict(scaleInput(x, pre)) as tf.Tensor2D;
        isProb ??= looksLikeProbabilities(out);
        return reorder(isProb ? tf.log(tf.clipByValue(out, 1e-7, 1)) : out);
      },
      dispose: () => g.dispose(),
    };
  }
  const model = await loadModelDir(record.modelDir);
  const softmax = endsInSoftmax(model);
  // BN folded into convs (models/inference-plan.ts), checked against model.predict on the first batch.
  const forward = checkedFoldedForward(model);
  const toLogits = (out: tf.Tensor2D): tf.Tensor2D => reorder(softmax ? tf.log(tf.clipByValue(out, 1e-7, 1)) : out);
  const taps = new Map<string, { tap: TapModel; forward: (x: tf.Tensor) => tf.Tensor[] }>();
  const tapEntry = (want: TapWant) => {
    const key = `${want.pooled}|${want.map}|${want.layer ?? ''}|${(want.hints ?? []).join(',')}`;
    if (!taps.has(key)) {
      const tap = tapModel(model, want, `teacher "${record.name}"`);
      // The tap model (logits + features) through the folded plan too: the teacher cache's pass runs it
      // for every view, and model.predict would take about twice as long.
      taps.set(key, { tap, forward: checkedFoldedOutputs(tap.model) });
    }
    return taps.get(key)!;
  };
  const tapFor = (want: TapWant): TapModel => tapEntry(want).tap;
  return {
    name: record.name,
    inputSize: record.inputSize,
    classes: datasetClasses.length,
    logits: (x) => toLogits(forward(scaleInput(x, pre)) as tf.Tensor2D),
    // Pooled features and spatial maps for the feature methods (tapModel says why where there are none).
    tapped: (x: tf.Tensor4D, want: TapWant) => {
      const r = splitTapOutputs(tapEntry(want).forward(scaleInput(x, pre)), want);
      return { logits: toLogits(r.out), features: r.pooled, map: r.map, hints: r.hints };
    },
    tapInfo: async (want: TapWant): Promise<TapInfo> => {
      const tap = tapFor(want);
      const pooled = want.pooled ? tap.model.outputs[1]! : null;
      const hints = want.hints?.length ? tap.model.outputs.slice(-want.hints.length) : [];
      return {
        featureDim: (pooled?.shape[1] as number | undefined) ?? null,
        ...(hints.length && { hintShapes: hints.map((h) => h.shape.slice(1) as [number, number, number]) }),
      };
    },
    // Grad-CAM in the dataset's class order (the teacher's own order may differ).
    ...(hasGradCam(model) && {
      explain: (x: tf.Tensor4D, classIndex?: number) => {
        const scaled = tf.tidy(() => scaleInput(x, pre));
        try {
          const r = gradCam(model, scaled, classIndex === undefined ? undefined : perm[classIndex]);
          return { classIndex: perm.indexOf(r.classIndex), probs: perm.map((p) => r.probs[p]!), cam: r.cam };
        } finally {
          scaled.dispose();
        }
      },
    }),
    dispose: () => {
      for (const { tap } of taps.values()) releasePlan(tap.model);
      model.dispose();
    },
  };
}
