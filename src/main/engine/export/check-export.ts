// What an export costs, measured on labeled images: the file's accuracy, its top-1 agreement with
// the float TF.js student and the largest probability difference, and its runtime's speed.
import { argmaxRow, predictProbsWith, type Predictions, type ProbabilityRunner } from '../predict.js';
import { scorePredictions } from '../evaluate.js';

export interface ExportCheck {
  n: number;
  accuracy: number;
  /** Share of images where the export's top-1 class equals the float student's. */
  agreement: number;
  maxAbsDiff: number;
  msPerImage: number;
}

/** `ref`: the float student's predictions on the same items (the same for every format, computed once). */
export async function checkExport(
  runner: ProbabilityRunner,
  ref: Predictions,
  classes: readonly string[],
  items: { key: string; path: string; label: string }[],
): Promise<ExportCheck> {
  const got = await predictProbsWith(runner, items);
  const score = scorePredictions(got, classes, items);
  const failed = new Set([...ref.failed, ...got.failed].map((f) => f.index));
  const C = classes.length;
  let same = 0;
  let n = 0;
  let maxAbsDiff = 0;
  for (let r = 0; r < items.length; r++) {
    if (failed.has(r)) continue;
    n++;
    if (argmaxRow(ref.probs, C, r).index === argmaxRow(got.probs, C, r).index) same++;
    for (let c = 0; c < C; c++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ref.probs[r * C + c]! - got.probs[r * C + c]!));
  }
  return { n, accuracy: score.accuracy, agreement: n ? same / n : 0, maxAbsDiff, msPerImage: got.msPerImage };
}
