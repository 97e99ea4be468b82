// Accuracy, per-class accuracy and confusion of a model folder on labeled images (`distill eval`).
import fs from 'node:fs';
import type { EvalResult } from '../../shared/domain.js';
import { loadModelDir } from './model-io.js';
import { listImageFiles } from './data/image-files.js';
import { argmaxRow, layersPredictor, predictProbs, type Predictor } from './predict.js';


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
  const index = new Map(classes.map((c, i) => [c, i]));
  const unknown = [...new Set(items.map((i) => i.label).filter((l) => !index.has(l)))];
  if (unknown.length) throw new Error(`the data has classes the model does not know: ${unknown.join(', ')} (model classes: ${classes.join(', ')})`);
  const preds = await predictProbs(predictor, items, { onProgress });
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

export async function evaluateFolderItems(
  model: { dir: string; inputSize: number; classes: readonly string[] },
  items: { key: string; path: string; label: string }[],
): Promise<EvalOutcome> {
  const m = await loadModelDir(model.dir);
  try {
    return await evaluatePredictor(layersPredictor(m, model.inputSize), model.classes, items);
  } finally {
    m.dispose();
  }
}
