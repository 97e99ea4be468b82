// Accuracy, per-class accuracy and confusion of a model folder on labeled images (`distill eval`).
import fs from 'node:fs';
import type { EvalResult } from '../../shared/domain.js';
import { loadTeacher } from './teacher-model.js';
import { listImageFiles } from './data/image-files.js';
import { argmaxRow, predictProbs, type Predictions, type Predictor } from './predict.js';


/** Images of a folder of class subfolders (the one folder-listing rule), the class folder as label. */
export async function listClassFolder(dir: string): Promise<{ path: string; label: string; key: string }[]> {
  const st = await fs.promises.stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new Error(`${dir}: not a folder`);
  const { files } = await listImageFiles(dir);
  const out = files.filter((f) => f.segments.length > 1).map((f) => ({ path: f.path, label: f.segments[0]!, key: f.path }));
  if (out.length === 0) throw new Error(`${dir}: no images in class subfolders`);
  return out;
}

export interface EvalOutcome extends EvalResult {
  skipped: { file: string; reason: string }[];
}

export async function evaluatePredictor(
  predictor: Predictor,
  classes: readonly string[],
  items: { key: string; path: string; label: string }[],
  onProgress?: (done: number, total: number) => void,
): Promise<EvalOutcome> {
  checkLabels(classes, items);
  return scorePredictions(await predictProbs(predictor, items, { onProgress }), classes, items);
}

function checkLabels(classes: readonly string[], items: { label: string }[]): void {
  const known = new Set(classes);
  const unknown = [...new Set(items.map((i) => i.label).filter((l) => !known.has(l)))];
  if (unknown.length) throw new Error(`the data has classes the model does not know: ${unknown.join(', ')} (model classes: ${classes.join(', ')})`);
}

/** Accuracy, per-class accuracy and confusion of predictions made for labeled items (rows in item order). */
export function scorePredictions(preds: Predictions, classes: readonly string[], items: { path: string; label: string }[]): EvalOutcome {
  checkLabels(classes, items);
  const index = new Map(classes.map((c, i) => [c, i]));
  const failed = new Map(preds.failed.map((f) => [f.index, f.error]));
  const C = classes.length;
  const matrix = classes.map(() => classes.map(() => 0));
  let correct = 0;
  let n = 0;
  items.forEach((it, r) => {
    if (failed.has(r)) return;
    const t = index.get(it.label)!;
    const p = argmaxRow(preds.probs, C, r).index;
    matrix[t]![p]!++;
    n++;
    if (p === t) correct++;
  });
  const perClass: Record<string, number> = {};
  classes.forEach((c, i) => {
    const row = matrix[i]!;
    const total = row.reduce((a, b) => a + b, 0);
    perClass[c] = total ? row[i]! / total : 0;
  });
  return {
    accuracy: n ? correct / n : 0,
    n,
    perClass,
    confusion: { classes: [...classes], matrix },
    skipped: [...failed].map(([i, reason]) => ({ file: items[i]!.path, reason })),
  };
}

/**
 * A model folder (a run's student, a teacher, an exported or imported model) scored on labeled images.
 * It is loaded the way every teacher is (teacher-model.ts), so an imported model's input range and
 * mean/std apply here exactly as in mining and soft labels.
 */
export async function evaluateFolderItems(
  model: { name?: string; dir: string; inputSize: number; classes: readonly string[] },
  items: { key: string; path: string; label: string }[],
  onProgress?: (done: number, total: number) => void,
): Promise<EvalOutcome> {
  const classes = [...model.classes];
  const t = await loadTeacher({ name: model.name ?? model.dir, modelDir: model.dir, inputSize: model.inputSize, classes }, classes);
  try {
    return await evaluatePredictor(t, classes, items, onProgress);
  } finally {
    t.dispose?.();
  }
}
