// Which images a run trains and validates on, from the store: labeled images (labels only when the
// config allows them), the unlabeled pool or a mining's selection, minus any copy of a val image.
import type { Store } from '../store/index.js';
import type { RunConfig } from '../../shared/run-config.js';
import type { TrainItem } from '../engine/train/train-types.js';

export interface TrainingSet {
  classes: string[];
  train: TrainItem[];
  val: TrainItem[];
  /** What went in, for the run's record and the CLI's report. */
  summary: { labeled: number; unlabeled: number; val: number; miningId: number | null; excludedValDuplicates: number };
}

export function buildTrainingSet(
  store: Store,
  datasetId: number,
  config: RunConfig,
  opts: { miningId?: number | null } = {},
): TrainingSet {
  const summary = store.datasets.getDatasetSummary(datasetId);
  if (!summary) throw new Error(`dataset ${datasetId} not found`);
  const classes = summary.classes;
  const index = new Map(classes.map((c, i) => [c, i]));
  const valHashes = store.images.hashesOfRole(datasetId, 'val');
  const toItem = (img: { id: number; hash: string; path: string; label: string | null }, withLabel: boolean): TrainItem => ({
    key: img.hash,
    path: img.path,
    imageId: img.id,
    label: withLabel && img.label != null ? (index.get(img.label) ?? null) : null,
  });

  const train: TrainItem[] = [];
  let excluded = 0;
  // With useLabels=false the labeled images still train, as unlabeled ones: their labels are never read.
  for (const img of store.images.listImages(datasetId, { role: 'labeled' })) train.push(toItem(img, config.data.useLabels));
  const labeledCount = train.length;

  let miningId: number | null = null;
  if (config.data.useUnlabeled) {
    if (opts.miningId != null) {
      miningId = opts.miningId;
      const selected = new Set(store.minings.getMiningSelections(miningId).map((s) => s.imageId));
      for (const img of store.images.listImages(datasetId, { role: 'unlabeled' })) {
        if (selected.has(img.id)) train.push(toItem(img, false));
      }
    } else {
      for (const img of store.images.listImages(datasetId, { role: 'unlabeled' })) {
        if (valHashes.has(img.hash)) {
          excluded++;
          continue;
        }
        train.push(toItem(img, false));
      }
    }
  }
  const val = store.images.listImages(datasetId, { role: 'val' }).map((img) => toItem(img, true));
  if (train.length === 0) throw new Error(`dataset "${summary.name}" has no training images for this config`);
  return {
    classes,
    train,
    val,
    summary: { labeled: labeledCount, unlabeled: train.length - labeledCount, val: val.length, miningId, excludedValDuplicates: excluded },
  };
}
