// The backbone's pass over a list of images for one view, through the feature cache: cached vectors are
// read, the rest go through the backbone in batches (decode → view → features) and are stored.
// View 0 is the eval center crop, view 1 its mirror, views ≥ 2 seeded random-resized crops (a pure
// function of the image's content key and the view number, so a cached entry always shows the same crop).
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { batches, centerView, randomResizedCropView, Rng, hashSeed, type CropView } from '../data/index.js';
import type { Backbone } from './backbone.js';
import type { FeatureCache } from './feature-cache.js';
import { roundToFloat16 } from '../data/float16.js';

export interface FeatureItem {
  /** Content key (the image's hash). */
  key: string;
  path: string;
}

export interface FeaturePassResult {
  /** Row-major [n, featureDim]; rows of failed items are zeros. */
  features: Float32Array;
  /** How many vectors the backbone computed (the rest came from the cache). */
  computed: number;
  failed: { index: number; path: string; error: string }[];
}

export interface FeaturePassOptions {
  batchSize?: number;
  /** Called after each batch with the images done so far (cached ones count as done at once). */
  onProgress?: (done: number, total: number) => void;
}

const AUGMENT = { flip: true, cropScaleMin: 0.35 };

function keySeed(key: string): number {
  return createHash('sha1').update(key).digest().readUInt32LE(0);
}

export function featureView(view: number, key: string, size: number): CropView {
  if (view === 0) return centerView(size);
  if (view === 1) return { ...centerView(size), flip: true };
  return randomResizedCropView(new Rng(hashSeed(keySeed(key), view)), AUGMENT);
}

export async function featurePass(
  backbone: Backbone,
  items: readonly FeatureItem[],
  view: number,
  cache: FeatureCache | null,
  o: FeaturePassOptions = {},
): Promise<FeaturePassResult> {
  const D = backbone.featureDim;
  const features = new Float32Array(items.length * D);
  const missing: number[] = [];
  const keys = items.map((it) => cache?.key(backbone.id, it.key, view) ?? '');
  items.forEach((_, i) => {
    const hit = cache?.read(keys[i]!, D) ?? null;
    if (hit) features.set(hit, i * D);
    else missing.push(i);
  });
  let done = items.length - missing.length;
  o.onProgress?.(done, items.length);
  const failed: FeaturePassResult['failed'] = [];
  const S = backbone.inputSize;
  const todo = missing.map((i) => ({ key: items[i]!.key, path: items[i]!.path, label: null }));
  for await (const b of batches({
    items: todo,
    size: S,
    batchSize: o.batchSize ?? 32,
    seed: 0,
    epoch: 0,
    shuffle: false,
    view: (j) => featureView(view, todo[j]!.key, S),
    onDecodeError: 'skip',
  })) {
    for (const f of b.failed) failed.push({ index: missing[f.index]!, path: f.path, error: f.error });
    if (b.indices.length > 0) {
      const x = tf.tensor4d(b.x, b.shape);
      let out: Float32Array;
      try {
        out = await backbone.features(x);
      } finally {
        x.dispose();
      }
      b.indices.forEach((j, r) => {
        const row = roundToFloat16(out.subarray(r * D, (r + 1) * D));
        const i = missing[j]!;
        features.set(row, i * D);
        cache?.write(keys[i]!, row);
      });
    }
    done += b.indices.length + b.failed.length;
    o.onProgress?.(done, items.length);
  }
  if (cache && keys.length > 0 && missing.length > 0) cache.prune(keys[missing[missing.length - 1]!]!);
  return { features, computed: missing.length - failed.length, failed };
}
