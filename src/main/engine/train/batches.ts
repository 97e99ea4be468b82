// Adapter between the training loop and the input pipeline (src/main/engine/data): seeded augmented
// training batches with prefetch, and eval views (center crop), as Float32 NHWC in [0,255].
import { batches, type Batch, type CropView } from '../data/index.js';
import type { TrainItem } from './train-types.js';

export interface TrainBatchOptions {
  size: number;
  batchSize: number;
  seed: number;
  epoch: number;
  augment: { flip: boolean; cropScaleMin: number };
  /** Replaces the epoch's own crops (teacher cache: the view whose soft labels are stored). */
  view?: (index: number, epoch: number) => CropView;
}

export function trainingBatches(items: TrainItem[], o: TrainBatchOptions): AsyncGenerator<Batch> {
  return batches({
    items,
    size: o.size,
    batchSize: o.batchSize,
    seed: o.seed,
    epoch: o.epoch,
    shuffle: true,
    augment: { flip: o.augment.flip, cropScaleMin: o.augment.cropScaleMin },
    view: o.view,
    // A file that became unreadable mid-run is skipped and reported, never fatal.
    onDecodeError: 'skip',
  });
}

export interface EvalBatch {
  x: Float32Array;
  indices: number[];
  failed: { index: number; error: string }[];
}

export async function* evalViews(items: { key: string; path: string }[], size: number, o: { batchSize: number }): AsyncGenerator<EvalBatch> {
  for await (const b of batches({
    items: items.map((i) => ({ key: i.key, path: i.path, label: null })),
    size,
    batchSize: o.batchSize,
    seed: 0,
    epoch: 0,
    shuffle: false,
    augment: false,
    onDecodeError: 'skip',
  })) {
    yield { x: b.x, indices: b.indices, failed: b.failed.map((f) => ({ index: f.index, error: f.error })) };
  }
}
