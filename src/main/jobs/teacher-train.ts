// `distill teacher train`: a supervised run (CE on the labeled split, augmentation, val each epoch)
// whose best checkpoint becomes a frozen teacher. Being a run, it gets live charts for free.
import fs from 'node:fs';
import path from 'node:path';
import type { TeacherRecord } from '../../shared/domain.js';
import { RunConfig } from '../../shared/run-config.js';
import type { Store } from '../store/index.js';
import { parseNetName } from '../engine/models/index.js';
import { extractStudent } from '../engine/train/checkpoint.js';
import { executeRun, type RunEvents } from './run-job.js';
import { evaluateFolderItems } from '../engine/evaluate.js';

export interface TeacherTrainOptions {
  name: string;
  dataset: string | number;
  arch: string;
  size: number;
  epochs: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
}

export function teachersDir(store: Store, name: string): string {
  return path.join(store.home, 'teachers', name.replace(/[^A-Za-z0-9._-]/g, '_'));
}

export async function trainTeacher(store: Store, o: TeacherTrainOptions, events: RunEvents): Promise<TeacherRecord> {
  if (store.teachers.getTeacher(o.name)) throw new Error(`teacher "${o.name}" already exists`);
  const net = parseNetName(o.arch);
  const datasetId = store.datasets.requireDatasetId(o.dataset);
  const dataset = store.datasets.getDatasetSummary(datasetId)!;
  const config = RunConfig.parse({
    name: store.runs.freeRunName(`teacher-${o.name}`),
    dataset: String(datasetId),
    method: 'ce',
    student: { arch: net.arch, width: net.width, inputSize: o.size },
    data: { useLabels: true, useUnlabeled: false },
    optim: { lr: o.lr ?? 0.002, warmupEpochs: Math.min(1, o.epochs / 4) },
    epochs: o.epochs,
    batchSize: o.batchSize ?? 32,
    seed: o.seed ?? 0,
  });
  const run = store.runs.createRun({ config, datasetId });
  store.runs.addRunFlag(run.id, `teacher:${o.name}`);
  await executeRun(store, run.id, { events });
  const best = store.checkpoints.bestCheckpoint(run.id) ?? store.checkpoints.lastCheckpoint(run.id);
  if (!best) throw new Error(`teacher run ${run.id} produced no checkpoint`);
  const dir = teachersDir(store, o.name);
  fs.rmSync(dir, { recursive: true, force: true });
  extractStudent(best.dir, 0, dir);
  const val = store.images.listImages(datasetId, { role: 'val' });
  const evalResult = val.length
    ? await evaluateFolderItems({ dir, inputSize: o.size, classes: dataset.classes }, val.map((v) => ({ key: v.hash, path: v.path, label: v.label! })))
    : null;
  return store.teachers.createTeacher({
    name: o.name,
    kind: 'trained',
    arch: o.arch,
    inputSize: o.size,
    classes: dataset.classes,
    datasetId,
    valAccuracy: evalResult?.accuracy ?? best.valAccuracy,
    perClass: evalResult?.perClass ?? null,
    modelDir: dir,
  });
}
