// Adapter between the training loop and the input pipeline (src/main/engine/data): training batches
// (seeded augmentation, prefetch) and eval views, both as Float32 NHWC in [0,255].
import { decodeForEval } from '../data/decode.js';
import type { TrainItem } from './train-types.js';

export interface TrainBatch {
  x: Float32Array;
  labels: (number | null)[];
  indices: number[];
}

export interface TrainBatchOptions {
  size: number;
  batchSize: number;
  seed: number;
  epoch: number;
  augment: { flip: boolean; cropScaleMin: number };
  cacheDir: string;
}

const evalCache = new Map<string, Uint8Array>();

async function evalPixels(item: { key: string; path: string }, size: number): Promise<Uint8Array> {
  const k = `${item.key}@${size}`;
  let px = evalCache.get(k);
  if (!px) {
    px = await decodeForEval(item.path, size);
    evalCache.set(k, px);
  }
  return px;
}

export async function* trainingBatches(items: TrainItem[], opts: TrainBatchOptions): AsyncGenerator<TrainBatch> {
  const order = items.map((_, i) => i);
  for (let b = 0; b < order.length; b += opts.batchSize) {
    const idx = order.slice(b, b + opts.batchSize);
    const per = opts.size * opts.size * 3;
    const x = new Float32Array(idx.length * per);
    const px = await Promise.all(idx.map((i) => evalPixels(items[i]!, opts.size)));
    px.forEach((p, r) => x.set(p, r * per));
    yield { x, labels: idx.map((i) => items[i]!.label), indices: idx };
  }
}

export interface EvalBatch {
  x: Float32Array;
  indices: number[];
  failed: { index: number; error: string }[];
}

export async function* evalViews(
  items: { key: string; path: string }[],
  size: number,
  opts: { batchSize: number; cacheDir?: string },
): AsyncGenerator<EvalBatch> {
  const per = size * size * 3;
  for (let b = 0; b < items.length; b += opts.batchSize) {
    const idx = items.slice(b, b + opts.batchSize).map((_, r) => b + r);
    const settled = await Promise.allSettled(idx.map((i) => evalPixels(items[i]!, size)));
    const ok: number[] = [];
    const failed: EvalBatch['failed'] = [];
    const x = new Float32Array(idx.length * per);
    settled.forEach((s, r) => {
      if (s.status === 'fulfilled') {
        x.set(s.value, ok.length * per);
        ok.push(idx[r]!);
      } else failed.push({ index: idx[r]!, error: s.reason instanceof Error ? s.reason.message : String(s.reason) });
    });
    yield { x: x.subarray(0, ok.length * per), indices: ok, failed };
  }
}
