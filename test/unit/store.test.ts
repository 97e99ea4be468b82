import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store, NotFoundError, encodeProbs, decodeProbs } from '../../src/main/store/index.js';
import type { ImageUpsert } from '../../src/main/store/images.js';
import type { BackendReport } from '../../src/shared/domain.js';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-store-'));
  store = Store.open(dir);
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function img(ds: number, folder: number, role: 'labeled' | 'unlabeled' | 'val', p: string, hash: string, label: string | null): ImageUpsert {
  return { datasetId: ds, folderId: folder, role, path: p, hash, bytes: 10, mtimeMs: 1, width: 8, height: 8, format: 'jpeg', label, status: 'ok', error: null };
}

/** A dataset with labeled cat/dog, val cat/dog and an unlabeled pool; returns ids. */
function seed() {
  const ds = store.datasets.createDataset('pets');
  const lab = store.datasets.addFolder(ds, '/data/lab', 'labeled');
  const unl = store.datasets.addFolder(ds, '/data/unl', 'unlabeled');
  const val = store.datasets.addFolder(ds, '/data/val', 'val');
  store.images.upsertImages([
    img(ds, lab.id, 'labeled', '/data/lab/cat/1.jpg', 'h1', 'cat'),
    img(ds, lab.id, 'labeled', '/data/lab/cat/2.jpg', 'h2', 'cat'),
    img(ds, lab.id, 'labeled', '/data/lab/dog/3.jpg', 'h3', 'dog'),
    img(ds, val.id, 'val', '/data/val/cat/4.jpg', 'h4', 'cat'),
    img(ds, val.id, 'val', '/data/val/dog/5.jpg', 'h5', 'dog'),
    img(ds, unl.id, 'unlabeled', '/data/unl/a.jpg', 'h6', null),
    img(ds, unl.id, 'unlabeled', '/data/unl/b.jpg', 'h7', null),
    // a copy of a val image in the unlabeled pool, and a copy of a labeled one inside labeled
    img(ds, unl.id, 'unlabeled', '/data/unl/0-copy-of-4.jpg', 'h4', null),
    img(ds, lab.id, 'labeled', '/data/lab/cat/0-copy-of-2.jpg', 'h2', 'cat'),
    { ...img(ds, unl.id, 'unlabeled', '/data/unl/bad.jpg', '', null), status: 'skipped', error: 'empty file (0 bytes)', width: null, height: null },
  ]);
  store.images.recomputeDuplicates(ds);
  return { ds, lab, unl, val };
}

describe('datasets and images', () => {
  it('round-trip a dataset summary with dedupe that keeps the val copy', () => {
    const { ds, lab, unl, val } = seed();
    const s = store.datasets.getDatasetSummary('pets')!;
    expect(s.id).toBe(ds);
    expect(s.classes).toEqual(['cat', 'dog']);
    expect(s.folders).toEqual([
      { id: lab.id, path: '/data/lab', role: 'labeled' },
      { id: unl.id, path: '/data/unl', role: 'unlabeled' },
      { id: val.id, path: '/data/val', role: 'val' },
    ]);
    // cat: 1.jpg, 2.jpg and its copy counted once → 2
    expect(s.labeled).toEqual({ cat: 2, dog: 1 });
    expect(s.val).toEqual({ cat: 1, dog: 1 });
    // a.jpg, b.jpg; the copy of val/4.jpg is a duplicate
    expect(s.unlabeled).toBe(2);
    expect(s.skipped).toEqual([{ file: '/data/unl/bad.jpg', reason: 'empty file (0 bytes)' }]);

    const copy = store.images.getImageByPath(ds, '/data/unl/0-copy-of-4.jpg')!;
    expect(copy.status).toBe('duplicate');
    expect(copy.error).toBe('duplicate of /data/val/cat/4.jpg');
    // Same role: the first path wins ("0-copy" sorts before "2").
    expect(store.images.getImageByPath(ds, '/data/lab/cat/0-copy-of-2.jpg')!.status).toBe('ok');
    expect(store.images.getImageByPath(ds, '/data/lab/cat/2.jpg')!.status).toBe('duplicate');
    expect(store.images.hashesOfRole(ds, 'val')).toEqual(new Set(['h4', 'h5']));
  });

  it('promote a duplicate when the kept copy goes missing', () => {
    const { ds } = seed();
    const keeper = store.images.getImageByPath(ds, '/data/val/cat/4.jpg')!;
    expect(store.images.markMissing([keeper.id])).toBe(1);
    expect(store.images.recomputeDuplicates(ds)).toBe(1);
    expect(store.images.getImageByPath(ds, '/data/unl/0-copy-of-4.jpg')!.status).toBe('ok');
    expect(store.datasets.getDatasetSummary(ds)!.val).toEqual({ dog: 1 });
    expect(store.images.getImage(keeper.id)!.status).toBe('missing');
    expect(store.images.pruneMissing(ds)).toBe(1);
    expect(store.images.getImage(keeper.id)).toBeNull();
  });

  it('list usable images by role and label, and the ids under a folder', () => {
    const { ds } = seed();
    expect(store.images.listImages(ds, { role: 'labeled', label: 'cat' }).map((i) => path.basename(i.path))).toEqual(['0-copy-of-2.jpg', '1.jpg']);
    expect(store.images.listImages(ds, { status: 'any' })).toHaveLength(10);
    expect(store.images.imageIdsUnder(ds, '/data/lab/cat')).toHaveLength(3);
    expect(store.images.imageIdsUnder(ds, '/data/lab/ca')).toHaveLength(0);
  });

  it('looks datasets up by id or name, a digit-only name first as a name', () => {
    const a = store.datasets.createDataset('alpha');
    const b = store.datasets.createDataset(String(a)); // a dataset literally named "1"
    expect(store.datasets.findDatasetId(a)).toBe(a);
    expect(store.datasets.findDatasetId('alpha')).toBe(a);
    expect(store.datasets.findDatasetId(String(a))).toBe(b);
    expect(store.datasets.findDatasetId(String(b))).toBe(b);
    expect(store.datasets.findDatasetId('nope')).toBeNull();
    expect(() => store.datasets.requireDatasetId('nope')).toThrow(NotFoundError);
    expect(() => store.datasets.createDataset('alpha')).toThrow(/already exists/);
  });

  it('refuses a folder already present under another role', () => {
    const ds = store.datasets.createDataset('x');
    const f = store.datasets.addFolder(ds, '/d/a', 'labeled');
    expect(store.datasets.addFolder(ds, '/d/a', 'labeled').id).toBe(f.id);
    expect(() => store.datasets.addFolder(ds, '/d/a', 'val')).toThrow(/already in this dataset as labeled/);
  });

  it('cascades a dataset removal to folders, images and runs', () => {
    const { ds } = seed();
    store.runs.createRun({ datasetId: ds, config: { name: 'r', dataset: 'pets', method: 'ce', student: { arch: 'refnet', inputSize: 32 }, epochs: 1 } });
    expect(store.datasets.removeDataset('pets')).toBe(true);
    for (const t of ['dataset_folders', 'images', 'runs']) {
      expect((store.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n).toBe(0);
    }
    expect(store.datasets.listDatasets()).toEqual([]);
  });
});

describe('teachers, predictions and minings', () => {
  it('round-trip a teacher and its predictions; a content change drops stale predictions', () => {
    const { ds, unl } = seed();
    const t = store.teachers.createTeacher({
      name: 'big',
      kind: 'trained',
      arch: 'resnet18',
      inputSize: 96,
      classes: ['cat', 'dog'],
      datasetId: ds,
      valAccuracy: null,
      modelDir: '/m/big',
      perClass: null,
    });
    expect(store.teachers.getTeacher('big')).toEqual(t);
    expect(store.teachers.getTeacher(t.id)).toEqual(t);
    const upd = store.teachers.updateTeacher('big', { valAccuracy: 0.9, perClass: { cat: 0.8, dog: 1 } });
    expect(upd.valAccuracy).toBe(0.9);
    expect(upd.perClass).toEqual({ cat: 0.8, dog: 1 });

    const a = store.images.getImageByPath(ds, '/data/unl/a.jpg')!;
    const b = store.images.getImageByPath(ds, '/data/unl/b.jpg')!;
    store.teachers.saveTeacherPredictions('big', [
      { imageId: a.id, probs: [0.25, 0.75] },
      { imageId: b.id, probs: [0.875, 0.125] },
    ]);
    const preds = store.teachers.getTeacherPredictions(t.id, { datasetId: ds, role: 'unlabeled' });
    expect(preds).toEqual([
      { imageId: a.id, label: 'dog', confidence: 0.75, probs: [0.25, 0.75] },
      { imageId: b.id, label: 'cat', confidence: 0.875, probs: [0.875, 0.125] },
    ]);
    expect(() => store.teachers.saveTeacherPredictions('big', [{ imageId: a.id, probs: [1] }])).toThrow(/2 classes/);
    expect(store.teachers.imagesWithoutTeacherPrediction('big', [a.id, b.id, 99])).toEqual([99]);

    // The file a.jpg changed content: its cached prediction is gone, b's stays.
    store.images.upsertImages([{ ...img(ds, unl.id, 'unlabeled', '/data/unl/a.jpg', 'h6-new', null) }]);
    expect(store.teachers.getTeacherPredictions('big').map((p) => p.imageId)).toEqual([b.id]);
  });

  it('record a mining with counts, shortfall and per-class rank', () => {
    const { ds } = seed();
    const t = store.teachers.createTeacher({ name: 't', kind: 'imported', arch: 'x', inputSize: 64, classes: ['cat', 'dog'], datasetId: null, valAccuracy: null, modelDir: '/m', perClass: null });
    const a = store.images.getImageByPath(ds, '/data/unl/a.jpg')!.id;
    const b = store.images.getImageByPath(ds, '/data/unl/b.jpg')!.id;
    const m = store.minings.createMining({
      datasetId: ds,
      teacherId: t.id,
      perClass: 2,
      minConfidence: 0.5,
      classes: ['cat', 'dog'],
      excludedDuplicates: 1,
      selections: [
        { imageId: a, label: 'cat', confidence: 0.6 },
        { imageId: b, label: 'cat', confidence: 0.9 },
      ],
    });
    expect(m).toMatchObject({ selected: 2, perClassSelected: { cat: 2, dog: 0 }, shortfall: { dog: 2 }, excludedDuplicates: 1, perClass: 2, minConfidence: 0.5 });
    expect(store.minings.getMiningSelections(m.id).map((s) => [s.imageId, s.rank])).toEqual([
      [b, 0],
      [a, 1],
    ]);
    expect(store.minings.latestMining(ds)!.id).toBe(m.id);
    expect(store.minings.listMinings('pets')).toEqual([m]);
    expect(() =>
      store.minings.createMining({ datasetId: ds, teacherId: t.id, perClass: 1, minConfidence: 0, classes: ['cat'], selections: [{ imageId: a, label: 'bird', confidence: 1 }] }),
    ).toThrow(/bird/);
  });
});

const backend: BackendReport = {
  active: 'wasm',
  threads: 2,
  simd: true,
  forcedBy: null,
  candidates: [{ name: 'tensorflow', available: false, reason: 'tfjs-node is not installed' }],
};

describe('runs, metrics, checkpoints, predictions', () => {
  it('round-trip a run through its lifecycle', () => {
    const { ds } = seed();
    const r = store.runs.createRun({
      datasetId: ds,
      classes: ['cat', 'dog'],
      config: { name: 'ssld-1', dataset: 'pets', method: 'ssld', teacher: 't', student: { arch: 'refnet', inputSize: 64 }, epochs: 3 },
    });
    expect(r).toMatchObject({ name: 'ssld-1', method: 'ssld', status: 'queued', flags: [], epochsDone: 0, backend: null, startedAt: null });
    // The stored config carries the schema's defaults.
    expect(r.config.optim.lr).toBe(0.002);
    expect(() => store.runs.createRun({ datasetId: ds, config: r.config })).toThrow(/already exists/);
    expect(store.runs.freeRunName('ssld-1')).toBe('ssld-1-2');
    expect(store.runs.freeRunName('fresh')).toBe('fresh');

    const running = store.runs.setRunStatus('ssld-1', 'running');
    expect(running.startedAt).not.toBeNull();
    store.runs.updateRun(r.id, { backend, epochsDone: 2, bestValAccuracy: 0.8, lastValAccuracy: 0.75, imgPerSec: 123.5, params: 138050, pid: 4242 });
    store.runs.addRunFlag(r.id, 'loss-stuck');
    store.runs.addRunFlag(r.id, 'loss-stuck');
    const done = store.runs.setRunStatus(String(r.id), 'failed', 'loss is NaN at step 7');
    expect(done).toMatchObject({ status: 'failed', error: 'loss is NaN at step 7', backend, epochsDone: 2, bestValAccuracy: 0.8, imgPerSec: 123.5, params: 138050, flags: ['loss-stuck'] });
    expect(done.finishedAt).not.toBeNull();
    expect(store.runs.getRunPid(r.id)).toBe(4242);
    expect(store.runs.getRunClasses('ssld-1')).toEqual(['cat', 'dog']);
    expect(store.runs.listRuns({ status: 'failed' }).map((x) => x.id)).toEqual([r.id]);
    expect(store.runs.listRuns({ status: 'running' })).toEqual([]);
    expect(() => store.runs.updateRun(r.id, { status: 'exploded' as never })).toThrow();
  });

  it('append metrics, read them after an id, skip non-finite values, truncate after a step', () => {
    const { ds } = seed();
    const r = store.runs.createRun({ datasetId: ds, config: { name: 'm', dataset: 'pets', method: 'ce', student: { arch: 'refnet', inputSize: 32 }, epochs: 2 } });
    const n = store.metrics.insertMetrics(r.id, [
      { scope: 'step', step: 1, epoch: 0.5, name: 'loss/ce', value: 0.7, time: 1000 },
      { scope: 'step', step: 2, epoch: 1, name: 'loss/ce', value: Number.NaN },
      { scope: 'epoch', step: 2, epoch: 1, name: 'val/acc', value: 0.6, time: 1001 },
      { scope: 'step', step: 3, epoch: 1.5, name: 'loss/ce', value: 0.5, model: 1, time: 1002 },
      { scope: 'epoch', step: 4, epoch: 2, name: 'val/acc', value: 0.7, time: 1003 },
    ]);
    expect(n).toBe(4);
    const all = store.metrics.getMetrics(r.id);
    expect(all.map((m) => [m.scope, m.step, m.name, m.value, m.model])).toEqual([
      ['step', 1, 'loss/ce', 0.7, 0],
      ['epoch', 2, 'val/acc', 0.6, 0],
      ['step', 3, 'loss/ce', 0.5, 1],
      ['epoch', 4, 'val/acc', 0.7, 0],
    ]);
    expect(store.metrics.getMetrics(r.id, { afterId: all[1]!.id }).map((m) => m.step)).toEqual([3, 4]);
    expect(store.metrics.getMetrics(r.id, { scope: 'epoch' }).map((m) => m.value)).toEqual([0.6, 0.7]);
    expect(store.metrics.metricNames(r.id)).toEqual([
      { scope: 'epoch', name: 'val/acc', model: 0 },
      { scope: 'step', name: 'loss/ce', model: 0 },
      { scope: 'step', name: 'loss/ce', model: 1 },
    ]);
    expect(store.metrics.deleteMetricsAfterStep(r.id, 2)).toBe(2);
    expect(store.metrics.getMetrics(r.id).map((m) => m.step)).toEqual([1, 2]);
  });

  it('record checkpoints and find the last and the best', () => {
    const { ds } = seed();
    const r = store.runs.createRun({ datasetId: ds, config: { name: 'c', dataset: 'pets', method: 'ce', student: { arch: 'refnet', inputSize: 32 }, epochs: 3 } });
    const c1 = store.checkpoints.addCheckpoint({ runId: r.id, epoch: 1, step: 10, dir: '/c/1', valAccuracy: 0.7 });
    store.checkpoints.addCheckpoint({ runId: r.id, epoch: 2, step: 20, dir: '/c/2', valAccuracy: 0.6 });
    store.checkpoints.addCheckpoint({ runId: r.id, epoch: 3, step: 30, dir: '/c/3', valAccuracy: null });
    expect(c1).toMatchObject({ runId: r.id, epoch: 1, step: 10, dir: '/c/1', valAccuracy: 0.7 });
    expect(store.checkpoints.lastCheckpoint(r.id)!.dir).toBe('/c/3');
    expect(store.checkpoints.bestCheckpoint(r.id)!.dir).toBe('/c/1');
    expect(store.checkpoints.deleteCheckpointsAfter(r.id, 1)).toEqual(['/c/2', '/c/3']);
    expect(store.checkpoints.listCheckpoints(r.id).map((c) => c.epoch)).toEqual([1]);
  });

  it('store val predictions and build the confusion matrix', () => {
    const { ds } = seed();
    const r = store.runs.createRun({ datasetId: ds, classes: ['cat', 'dog'], config: { name: 'p', dataset: 'pets', method: 'ce', student: { arch: 'refnet', inputSize: 32 }, epochs: 1 } });
    const cat = store.images.getImageByPath(ds, '/data/val/cat/4.jpg')!.id;
    const dog = store.images.getImageByPath(ds, '/data/val/dog/5.jpg')!.id;
    const lab = store.images.getImageByPath(ds, '/data/lab/dog/3.jpg')!.id;
    store.runPredictions.saveRunPredictions(r.id, ['cat', 'dog'], [
      { imageId: cat, probs: [0.25, 0.75] }, // wrong
      { imageId: dog, probs: [0.125, 0.875] },
      { imageId: lab, probs: [0.375, 0.625] },
    ]);
    expect(store.runPredictions.runConfusion(r.id, ['cat', 'dog'])).toEqual({ classes: ['cat', 'dog'], matrix: [[0, 1], [0, 2]] });
    expect(store.runPredictions.runConfusion(r.id, ['cat', 'dog'], 1)).toBeNull();
    expect(store.runPredictions.getRunPredictions(r.id)[0]).toMatchObject({ trueLabel: 'dog', label: 'dog', confidence: 0.625, probs: [0.375, 0.625] });
    // Saving again replaces (one evaluation's worth).
    store.runPredictions.saveRunPredictions(r.id, ['cat', 'dog'], [{ imageId: cat, probs: [1, 0] }]);
    expect(store.runPredictions.runConfusion(r.id, ['cat', 'dog'])!.matrix).toEqual([[1, 0], [0, 0]]);
  });
});

describe('browse query', () => {
  it('filters by role, teacher label, confidence, mined, and drills into a run confusion cell', () => {
    const { ds } = seed();
    const t = store.teachers.createTeacher({ name: 't', kind: 'imported', arch: 'x', inputSize: 64, classes: ['cat', 'dog'], datasetId: null, valAccuracy: null, modelDir: '/m', perClass: null });
    const id = (p: string) => store.images.getImageByPath(ds, p)!.id;
    const a = id('/data/unl/a.jpg');
    const b = id('/data/unl/b.jpg');
    store.teachers.saveTeacherPredictions(t.id, [
      { imageId: a, probs: [0.25, 0.75] },
      { imageId: b, probs: [0.875, 0.125] },
    ]);
    store.minings.createMining({ datasetId: ds, teacherId: t.id, perClass: 1, minConfidence: 0, classes: ['cat', 'dog'], selections: [{ imageId: b, label: 'cat', confidence: 0.875 }] });

    const all = store.browse.queryImages({ dataset: 'pets' });
    expect(all.total).toBe(7); // ok images only: 3 labeled (dup counted once), 2 val, 2 unlabeled
    const unl = store.browse.queryImages({ dataset: ds, role: 'unlabeled', sort: 'confidence-desc' });
    expect(unl.items).toEqual([
      { id: b, path: '/data/unl/b.jpg', role: 'unlabeled', label: null, teacherLabel: 'cat', teacherConfidence: 0.875, mined: true },
      { id: a, path: '/data/unl/a.jpg', role: 'unlabeled', label: null, teacherLabel: 'dog', teacherConfidence: 0.75, mined: false },
    ]);
    expect(store.browse.queryImages({ dataset: ds, teacherLabel: 'dog' }).items.map((i) => i.id)).toEqual([a]);
    expect(store.browse.queryImages({ dataset: ds, confidenceMin: 0.8 }).items.map((i) => i.id)).toEqual([b]);
    expect(store.browse.queryImages({ dataset: ds, mined: true }).total).toBe(1);
    expect(store.browse.queryImages({ dataset: ds, mined: false }).total).toBe(6);
    expect(store.browse.queryImages({ dataset: ds, role: 'labeled', label: 'cat', limit: 1, offset: 1 })).toEqual({
      total: 2,
      items: [expect.objectContaining({ path: '/data/lab/cat/1.jpg' })],
    });
    expect(store.browse.queryImages({ dataset: ds, status: 'all' }).total).toBe(10);

    const r = store.runs.createRun({ datasetId: ds, classes: ['cat', 'dog'], config: { name: 'p', dataset: 'pets', method: 'ce', student: { arch: 'refnet', inputSize: 32 }, epochs: 1 } });
    const vc = id('/data/val/cat/4.jpg');
    const vd = id('/data/val/dog/5.jpg');
    store.runPredictions.saveRunPredictions(r.id, ['cat', 'dog'], [
      { imageId: vc, probs: [0.25, 0.75] },
      { imageId: vd, probs: [0.125, 0.875] },
    ]);
    const cell = store.browse.queryImages({ dataset: ds, run: 'p', trueLabel: 'cat', predictedLabel: 'dog' });
    expect(cell.items).toEqual([expect.objectContaining({ id: vc, predictedLabel: 'dog', predictedConfidence: 0.75 })]);
    expect(store.browse.queryImages({ dataset: ds, run: r.id, mistakesOnly: true }).items.map((i) => i.id)).toEqual([vc]);

    expect(store.browse.imageProbabilities(vc)).toEqual([{ source: 'run:p', classes: ['cat', 'dog'], probs: [0.25, 0.75] }]);
    expect(store.browse.imageProbabilities(a)).toEqual([{ source: 'teacher:t', classes: ['cat', 'dog'], probs: [0.25, 0.75] }]);
    expect(store.browse.imageRow(b)).toMatchObject({ teacherLabel: 'cat', mined: true });
  });
});

describe('probability blobs', () => {
  it('round-trip float32 values', () => {
    expect(decodeProbs(encodeProbs([0.5, 0.25, 1, 0]))).toEqual([0.5, 0.25, 1, 0]);
    expect(decodeProbs(encodeProbs([0.1]))[0]).toBeCloseTo(0.1, 7);
    expect(encodeProbs([1, 2]).length).toBe(8);
  });
});
