// A run's predictions on val images: confusion matrices and their drill-down to images.
import type { Confusion } from '../../shared/domain.js';
import { writeTx, type Db } from './db.js';
import { argmax, decodeProbs, encodeProbs } from './probs.js';

export interface RunPredictionInput {
  imageId: number;
  probs: ArrayLike<number>;
}

/** Replaces a model's predictions for a run (one evaluation's worth) in one transaction. */
export function saveRunPredictions(db: Db, runId: number, classes: readonly string[], rows: readonly RunPredictionInput[], model = 0): number {
  const stmt = db.prepare('INSERT INTO run_predictions (run_id, model, image_id, label, confidence, probs) VALUES (?, ?, ?, ?, ?, ?)');
  return writeTx(db, () => {
    db.prepare('DELETE FROM run_predictions WHERE run_id = ? AND model = ?').run(runId, model);
    for (const r of rows) {
      if (r.probs.length !== classes.length) throw new Error(`expected ${classes.length} probabilities for image ${r.imageId}, got ${r.probs.length}`);
      const k = argmax(r.probs);
      stmt.run(runId, model, r.imageId, classes[k]!, r.probs[k]!, encodeProbs(r.probs));
    }
    return rows.length;
  });
}

export interface RunPrediction {
  imageId: number;
  path: string;
  trueLabel: string | null;
  label: string;
  confidence: number;
  probs: number[];
}

export function getRunPredictions(db: Db, runId: number, model = 0): RunPrediction[] {
  const rows = db
    .prepare(
      `SELECT p.image_id AS imageId, i.path, i.label AS trueLabel, p.label, p.confidence, p.probs
       FROM run_predictions p JOIN images i ON i.id = p.image_id
       WHERE p.run_id = ? AND p.model = ? ORDER BY i.path`,
    )
    .all(runId, model) as (Omit<RunPrediction, 'probs'> & { probs: Buffer | null })[];
  return rows.map((r) => ({ ...r, probs: decodeProbs(r.probs) }));
}

/**
 * matrix[true][predicted] over predicted images that have a true label, in `classes` order (the run's
 * classes). Null when the run has no predictions.
 */
export function runConfusion(db: Db, runId: number, classes: readonly string[], model = 0): Confusion | null {
  const rows = db
    .prepare(
      `SELECT i.label AS t, p.label AS p, COUNT(*) AS n FROM run_predictions p JOIN images i ON i.id = p.image_id
       WHERE p.run_id = ? AND p.model = ? AND i.label IS NOT NULL GROUP BY i.label, p.label`,
    )
    .all(runId, model) as { t: string; p: string; n: number }[];
  if (rows.length === 0) return null;
  const index = new Map(classes.map((c, i) => [c, i]));
  const matrix = classes.map(() => classes.map(() => 0));
  for (const r of rows) {
    const ti = index.get(r.t);
    const pi = index.get(r.p);
    if (ti !== undefined && pi !== undefined) matrix[ti]![pi]! += r.n;
  }
  return { classes: [...classes], matrix };
}
