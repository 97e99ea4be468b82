// `distill teacher train NAME --backbone B`: the dataset's labeled and val images from the store, the
// engine's backbone teacher training into the teacher's folder, then the teacher's record.
import fs from 'node:fs';
import path from 'node:path';
import type { TeacherRecord } from '../../shared/domain.js';
import type { Store } from '../store/index.js';
import { initBackend } from '../engine/backend/select.js';
import { teachersDir } from './teacher-train.js';
import { FeatureCache } from '../engine/teachers/feature-cache.js';
import type { HeadKind } from '../engine/teachers/feature-head.js';
import { openBackbone, type BackboneSpec } from '../engine/teachers/open-backbone.js';
import { trainBackboneTeacher, type BackboneTeacherInput, type LabeledImage } from '../engine/teachers/train-backbone-teacher.js';

export interface BackboneTeacherJob extends BackboneSpec {
  name: string;
  dataset: string | number;
  head: HeadKind;
  epochs: number;
  views: number;
  seed?: number;
}

export interface BackboneTeacherResult {
  teacher: TeacherRecord;
  computed: number;
  cached: number;
  seconds: number;
}

/** A bundled name as is; a model path by its folder's name. */
function backboneLabel(spec: string): string {
  return spec.endsWith('.json') ? path.basename(path.dirname(path.resolve(spec))) : path.basename(spec);
}

export async function runBackboneTeacherJob(store: Store, o: BackboneTeacherJob, events: BackboneTeacherInput['events']): Promise<BackboneTeacherResult> {
  const started = Date.now();
  if (store.teachers.getTeacher(o.name)) throw new Error(`teacher "${o.name}" already exists`);
  const datasetId = store.datasets.requireDatasetId(o.dataset);
  const dataset = store.datasets.getDatasetSummary(datasetId)!;
  const classes = dataset.classes;
  if (classes.length < 2) throw new Error(`dataset "${dataset.name}" has ${classes.length} labeled class(es); a teacher needs at least two`);
  const index = new Map(classes.map((c, i) => [c, i]));
  const toItems = (role: 'labeled' | 'val'): LabeledImage[] =>
    store.images.listImages(datasetId, { role }).flatMap((im) => {
      const label = im.label === null ? undefined : index.get(im.label);
      return label === undefined ? [] : [{ key: im.hash, path: im.path, label }];
    });
  const valClasses = [...new Set(store.images.listImages(datasetId, { role: 'val' }).map((im) => im.label).filter((l): l is string => l !== null))];
  const unknown = valClasses.filter((c) => !index.has(c));
  if (unknown.length) throw new Error(`dataset "${dataset.name}": val has class(es) ${unknown.join(', ')} that the labeled split lacks (labeled: ${classes.join(', ')})`);
  const train = toItems('labeled');
  if (train.length === 0) throw new Error(`dataset "${dataset.name}" has no labeled images`);
  await initBackend();
  const backbone = await openBackbone(o);
  const dir = teachersDir(store, o.name);
  const tmp = `${dir}.partial`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    const r = await trainBackboneTeacher({
      backbone,
      classes,
      train,
      val: toItems('val'),
      views: o.views,
      head: { kind: o.head, epochs: o.epochs, seed: o.seed },
      cache: new FeatureCache(path.join(store.home, 'cache', 'features')),
      outDir: tmp,
      events,
    });
    // The folder appears complete or not at all; an older folder of that name (no record) is replaced.
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    const teacher = store.teachers.createTeacher({
      name: o.name,
      kind: 'trained',
      arch: `${backboneLabel(o.backbone)}+${o.head}`,
      inputSize: backbone.inputSize,
      classes,
      datasetId,
      valAccuracy: r.valAccuracy,
      perClass: r.perClass,
      modelDir: dir,
    });
    return { teacher, computed: r.computed, cached: r.cached, seconds: (Date.now() - started) / 1000 };
  } finally {
    backbone.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
