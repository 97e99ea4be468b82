// Loading a stored teacher (trained here, or an imported TF.js layers / graph model) as a Predictor whose
// logits follow the dataset's class order. A teacher whose classes differ from the dataset's is refused
// before any training starts.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TeacherRecord } from '../../shared/domain.js';
import { loadModelDir, readModelJson } from './model-io.js';
import { featureTap } from './models/feature-tap.js';
import { checkedFoldedForward } from './models/inference-plan.js';
import type { Teacher } from './train/train-types.js';
import { z } from 'zod';

/** What pixel range an imported model expects; ours take [0,255] and normalize inside. */
export const InputRange = z.enum(['0-255', '0-1', '-1-1']);
export type InputRange = z.infer<typeof InputRange>;
const TeacherInfo = z.object({ format: z.enum(['layers-model', 'graph-model']), inputRange: InputRange });
type TeacherInfo = z.infer<typeof TeacherInfo>;
const INFO_FILE = 'distill-teacher.json';

export function writeTeacherInfo(dir: string, info: TeacherInfo): void {
  fs.writeFileSync(path.join(dir, INFO_FILE), JSON.stringify(info));
}

function readTeacherInfo(dir: string): TeacherInfo {
  const file = path.join(dir, INFO_FILE);
  if (!fs.existsSync(file)) return { format: readModelJson(dir).format === 'graph-model' ? 'graph-model' : 'layers-model', inputRange: '0-255' };
  return TeacherInfo.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
}

function scaleInput(x: tf.Tensor4D, range: InputRange): tf.Tensor4D {
  if (range === '0-1') return tf.div(x, 255);
  if (range === '-1-1') return tf.sub(tf.div(x, 127.5), 1);
  return x;
}

export function checkTeacherClasses(teacher: TeacherRecord, datasetClasses: readonly string[]): number[] {
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

export async function loadTeacher(record: TeacherRecord, datasetClasses: readonly string[]): Promise<Teacher> {
  const perm = checkTeacherClasses(record, datasetClasses);
  const identity = perm.every((p, i) => p === i);
  const reorder = (logits: tf.Tensor2D): tf.Tensor2D => (identity ? logits : tf.gather(logits, perm, 1));
  const info = readTeacherInfo(record.modelDir);
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
        const out = g.predict(scaleInput(x, info.inputRange)) as tf.Tensor2D;
        isProb ??= looksLikeProbabilities(out);
        return reorder(isProb ? tf.log(tf.clipByValue(out, 1e-7, 1)) : out);
      },
    };
  }
  const model = await loadModelDir(record.modelDir);
  const softmax = endsInSoftmax(model);
  // BN folded into convs (models/inference-plan.ts), checked against model.predict on the first batch.
  const forward = checkedFoldedForward(model);
  const toLogits = (out: tf.Tensor2D): tf.Tensor2D => reorder(softmax ? tf.log(tf.clipByValue(out, 1e-7, 1)) : out);
  // Pooled features (the input of the final Dense layer) for feature distillation, where there is one.
  const tap = featureTap(model);
  return {
    name: record.name,
    inputSize: record.inputSize,
    classes: datasetClasses.length,
    logits: (x) => toLogits(forward(scaleInput(x, info.inputRange)) as tf.Tensor2D),
    ...(tap && {
      featureDim: tap.featureDim,
      logitsAndFeatures: (x: tf.Tensor4D) => {
        const [features, out] = tap.model.predict(scaleInput(x, info.inputRange)) as tf.Tensor2D[];
        return { logits: toLogits(out!), features: features! };
      },
    }),
  };
}
