// `distill mine`: the teacher's probabilities for every unlabeled (and val) image are stored once, then
// the class-balanced top-K selection is recorded. Re-mining with another K reuses the stored predictions.
import path from 'node:path';
import type { MiningRecord } from '../../shared/domain.js';
import type { Store } from '../store/index.js';
import { checkTeacherClasses, loadTeacher } from '../engine/teacher-model.js';
import { predictProbs } from '../engine/predict.js';
import { initBackend } from '../engine/backend/select.js';
import { selectTopKPerClass } from '../engine/mining/select-top-k.js';
import type { SelectedImage } from '../engine/mining/mining-report.js';
import { persistSharedImageCache } from '../engine/data/index.js';

export interface MineOptions {
  dataset: string | number;
  teacher: string | number;
  perClass: number;
  minConfidence: number;
}

export interface MineOutcome {
  mining: MiningRecord;
  failed: { file: string; reason: string }[];
  belowConfidence: number;
  /** The selection with each image's path, for reports. */
  selected: SelectedImage[];
}

export async function ensureTeacherPredictions(
  store: Store,
  datasetId: number,
  teacherRef: string | number,
  roles: ('unlabeled' | 'val' | 'labeled')[],
  onProgress?: (done: number, total: number) => void,
): Promise<{ file: string; reason: string }[]> {
  const rec = store.teachers.requireTeacher(teacherRef);
  const images = roles.flatMap((role) => store.images.listImages(datasetId, { role }));
  const missing = new Set(store.teachers.imagesWithoutTeacherPrediction(rec.id, images.map((i) => i.id)));
  const todo = images.filter((i) => missing.has(i.id));
  if (todo.length === 0) return [];
  await initBackend();
  // The same decoded images as the runs of this home (a run on these images after mining starts warm).
  persistSharedImageCache(path.join(store.home, 'cache', 'decoded'));
  // The teacher's own class order: stored probabilities are in it.
  const teacher = await loadTeacher(rec, rec.classes);
  const failed: { file: string; reason: string }[] = [];
  const CHUNK = 256;
  for (let s = 0; s < todo.length; s += CHUNK) {
    const chunk = todo.slice(s, s + CHUNK);
    const preds = await predictProbs(teacher, chunk.map((i) => ({ key: i.hash, path: i.path })), {
      onProgress: (done) => onProgress?.(s + done, todo.length),
    });
    const bad = new Set(preds.failed.map((f) => f.index));
    preds.failed.forEach((f) => failed.push({ file: chunk[f.index]!.path, reason: f.error }));
    store.teachers.saveTeacherPredictions(
      rec.id,
      chunk.flatMap((img, r) => (bad.has(r) ? [] : [{ imageId: img.id, probs: preds.probs.subarray(r * preds.classes, (r + 1) * preds.classes) }])),
    );
    onProgress?.(Math.min(todo.length, s + CHUNK), todo.length);
  }
  return failed;
}

export async function mine(store: Store, o: MineOptions, onProgress?: (done: number, total: number) => void): Promise<MineOutcome> {
  const datasetId = store.datasets.requireDatasetId(o.dataset);
  const dataset = store.datasets.getDatasetSummary(datasetId)!;
  const rec = store.teachers.requireTeacher(o.teacher);
  checkTeacherClasses(rec, dataset.classes);
  const failed = await ensureTeacherPredictions(store, datasetId, rec.id, ['unlabeled', 'val'], onProgress);
  const preds = store.teachers.getTeacherPredictions(rec.id, { datasetId, role: 'unlabeled' });
  const pool = store.images.listImages(datasetId, { role: 'unlabeled' });
  const hashById = new Map(pool.map((i) => [i.id, i.hash]));
  const pathById = new Map(pool.map((i) => [i.id, i.path]));
  const valHashes = store.images.hashesOfRole(datasetId, 'val');
  const sel = selectTopKPerClass(
    preds.filter((p) => hashById.has(p.imageId)).map((p) => ({ imageId: p.imageId, hash: hashById.get(p.imageId)!, probs: p.probs })),
    rec.classes.length,
    o.perClass,
    o.minConfidence,
    valHashes,
  );
  const mining = store.minings.createMining({
    datasetId,
    teacherId: rec.id,
    perClass: o.perClass,
    minConfidence: o.minConfidence,
    classes: rec.classes,
    excludedDuplicates: sel.excludedDuplicates,
    selections: sel.selected.map((m) => ({ imageId: m.imageId, label: rec.classes[m.label]!, confidence: m.confidence })),
  });
  const selected = sel.selected.map((m) => ({ path: pathById.get(m.imageId)!, label: rec.classes[m.label]!, confidence: m.confidence }));
  return { mining, failed, belowConfidence: sel.belowConfidence, selected };
}
