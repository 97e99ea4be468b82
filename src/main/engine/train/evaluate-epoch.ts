// End-of-epoch evaluation on val: accuracy and confusion per student, teacher–student JS and KL.
import type * as tf from '@tensorflow/tfjs';
import { argmaxRow, layersPredictor, predictProbs, type Predictions } from '../predict.js';
import type { EpochReport, StepMetric, Teacher, TrainItem } from './train-types.js';

const teacherValCache = new WeakMap<Teacher, Predictions>();

function klRows(p: Float32Array, q: Float32Array, classes: number, rows: number[]): number {
  const eps = 1e-7;
  let s = 0;
  for (const r of rows) {
    for (let c = 0; c < classes; c++) {
      const a = Math.max(p[r * classes + c]!, eps);
      const b = Math.max(q[r * classes + c]!, eps);
      s += a * Math.log(a / b);
    }
  }
  return s / Math.max(1, rows.length);
}

function jsRows(p: Float32Array, q: Float32Array, classes: number, rows: number[]): number {
  const m = new Float32Array(p.length);
  for (const r of rows) for (let c = 0; c < classes; c++) m[r * classes + c] = (p[r * classes + c]! + q[r * classes + c]!) / 2;
  return 0.5 * klRows(p, m, classes, rows) + 0.5 * klRows(q, m, classes, rows);
}

export async function evaluateEpoch(args: {
  students: tf.LayersModel[];
  teacher: Teacher | null;
  val: TrainItem[];
  classes: string[];
  sizes: number[];
  epoch: number;
  step: number;
  temperature: number;
  /** After each predicted batch (a watchdog's sign of progress). */
  onBatch?: () => void;
}): Promise<EpochReport> {
  const { val, classes } = args;
  const C = classes.length;
  const metrics: StepMetric[] = [];
  const report: EpochReport = {
    epoch: args.epoch,
    step: args.step,
    metrics,
    valAccuracy: null,
    confusion: null,
    predictions: [],
    meanLoss: {},
  };
  const labeled = val.filter((v) => v.label != null);
  if (labeled.length === 0) return report;

  let teacherPreds: Predictions | null = null;
  if (args.teacher) {
    teacherPreds = teacherValCache.get(args.teacher) ?? null;
    if (!teacherPreds || teacherPreds.n !== labeled.length) {
      teacherPreds = await predictProbs(args.teacher, labeled, { onProgress: args.onBatch });
      teacherValCache.set(args.teacher, teacherPreds);
    }
  }

  for (let s = 0; s < args.students.length; s++) {
    const preds = await predictProbs(layersPredictor(args.students[s]!, args.sizes[s]!), labeled, { onProgress: args.onBatch });
    const failed = new Set(preds.failed.map((f) => f.index));
    const rows = labeled.map((_, i) => i).filter((i) => !failed.has(i));
    const confusion = classes.map(() => classes.map(() => 0));
    let correct = 0;
    for (const r of rows) {
      const { index, confidence } = argmaxRow(preds.probs, C, r);
      const truth = labeled[r]!.label!;
      confusion[truth]![index]!++;
      if (index === truth) correct++;
      if (s === 0 && labeled[r]!.imageId != null) {
        report.predictions.push({
          imageId: labeled[r]!.imageId!,
          predicted: index,
          confidence,
          probs: Array.from(preds.probs.subarray(r * C, (r + 1) * C)),
        });
      }
    }
    const acc = rows.length ? correct / rows.length : 0;
    metrics.push({ model: s, name: 'val/accuracy', value: acc });
    if (teacherPreds) {
      metrics.push({ model: s, name: 'val/js_teacher', value: jsRows(teacherPreds.probs, preds.probs, C, rows) });
      metrics.push({ model: s, name: 'val/kl_teacher', value: klRows(teacherPreds.probs, preds.probs, C, rows) });
    }
    if (s === 0) {
      report.valAccuracy = acc;
      report.confusion = confusion;
    }
  }
  if (teacherPreds) {
    let correct = 0;
    labeled.forEach((v, r) => {
      if (argmaxRow(teacherPreds!.probs, C, r).index === v.label) correct++;
    });
    metrics.push({ model: -1, name: 'val/teacher_accuracy', value: correct / labeled.length });
  }
  return report;
}
