// Batches for training and evaluation with prefetch: while the caller trains on batch k, batch k+1
// (and k+2 with the default depth) is being decoded (sharp, on libuv's threads; a no-op once cached)
// and augmented (on a render worker thread where there is a second core). Order and views are pure functions of (seed, epoch), so an epoch can be replayed
// exactly after a crash. tf-free on purpose: the caller makes tensors (tf.tensor4d(b.x, b.shape)).
import { centerView, renderView, trainingView, type AugmentOptions, type CropView } from './augment.js';
import { trainSide } from './decode.js';
import { sharedImageCache, type ImageCache } from './image-cache.js';
import { sharedRenderPool, type RenderPool } from './render-pool.js';
import { Rng, STREAM_SHUFFLE, hashSeed, shuffleInPlace } from './rng.js';

export interface BatchItem {
  /** Stable id for the cache: the image id or its content hash. */
  key: string;
  path: string;
  label: number | null;
}

export interface Batch {
  /** NHWC float32 in [0,255], N = indices.length. */
  x: Float32Array;
  shape: [number, number, number, number];
  /** Positions in the items list, in batch order. */
  indices: number[];
  labels: (number | null)[];
  keys: string[];
  /** The crop each row shows (normalized to the stored square): replayable for a teacher at its own size. */
  views: CropView[];
  epoch: number;
  batchIndex: number;
  /** Items left out because they could not be decoded (only with onDecodeError: 'skip'). */
  failed: { index: number; key: string; path: string; error: string }[];
}

export type BatchEvent = { type: 'prepare-start' | 'prepare-end' | 'yield'; batch: number; epoch: number };

export interface BatcherOptions {
  items: readonly BatchItem[];
  /** Network input side. */
  size: number;
  batchSize: number;
  seed: number;
  epoch: number;
  /** Shuffle the order (seeded by seed and epoch). Default true. */
  shuffle?: boolean;
  /** Random-resized-crop + flip; false = the eval center view. Default false. */
  augment?: AugmentOptions | false;
  /** Drop the last batch when it is smaller than batchSize. Default false. */
  dropLast?: boolean;
  /** Batches prepared ahead of the one the caller is working on. Default 2. */
  prefetch?: number;
  /** Skip the first batches of the epoch (same order, same views). Default 0. */
  startBatch?: number;
  /** Default: the process-wide sharedImageCache(). */
  cache?: ImageCache;
  /** Where views are rendered: a worker pool, or null for this thread. Default: sharedRenderPool(). */
  renderer?: RenderPool | null;
  /** 'throw' (default): a file that cannot be decoded fails the batch, naming the file. 'skip': left out, listed in batch.failed. */
  onDecodeError?: 'throw' | 'skip';
  /** Overrides the view of item `index` in `epoch` (e.g. replaying views whose teacher outputs are cached). */
  view?: (index: number, epoch: number) => CropView;
  /** Instrumentation: when each batch starts and ends preparing and when it is handed over. */
  onEvent?: (e: BatchEvent) => void;
}

/** The item order of an epoch: a pure function of (n, seed, epoch). */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  return shuffle ? shuffleInPlace(order, new Rng(hashSeed(seed, STREAM_SHUFFLE, epoch))) : order;
}

export function batchCount(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`batcher: ${name} must be an integer ≥ ${min}, got ${v}`);
}

/** An epoch of batches with prefetch. Breaking out of the loop early is fine. */
export async function* batches(opts: BatcherOptions): AsyncGenerator<Batch> {
  const { items, size, batchSize, seed, epoch } = opts;
  checkInt('size', size, 1);
  checkInt('batchSize', batchSize, 1);
  checkInt('epoch', epoch, 0);
  const depth = opts.prefetch ?? 2;
  checkInt('prefetch', depth, 1);
  const start = opts.startBatch ?? 0;
  checkInt('startBatch', start, 0);
  const cache = opts.cache ?? sharedImageCache();
  const pool = opts.renderer === undefined ? sharedRenderPool() : opts.renderer;
  const augment = opts.augment ?? false;
  const skipBad = opts.onDecodeError === 'skip';
  const order = epochOrder(items.length, seed, epoch, opts.shuffle ?? true);
  const total = batchCount(items.length, batchSize, opts.dropLast ?? false);
  const side = trainSide(size);
  const per = size * size * 3;
  const center = centerView(size);
  const emit = (type: BatchEvent['type'], batch: number): void => opts.onEvent?.({ type, batch, epoch });

  const viewOf = (i: number): CropView => {
    if (opts.view) return opts.view(i, epoch);
    return augment ? trainingView(seed, epoch, i, augment) : center;
  };

  const prepare = async (k: number): Promise<Batch> => {
    emit('prepare-start', k);
    const idx = order.slice(k * batchSize, Math.min((k + 1) * batchSize, items.length));
    const settled = await Promise.allSettled(idx.map((i) => cache.get(items[i]!, size, 'train')));
    const failed: Batch['failed'] = [];
    const rows: { i: number; px: Uint8Array }[] = [];
    settled.forEach((s, r) => {
      const i = idx[r]!;
      if (s.status === 'fulfilled') rows.push({ i, px: s.value });
      else {
        const error = s.reason instanceof Error ? s.reason.message : String(s.reason);
        if (!skipBad) throw s.reason instanceof Error ? s.reason : new Error(error);
        failed.push({ index: i, key: items[i]!.key, path: items[i]!.path, error });
      }
    });
    const views = rows.map(({ i }) => viewOf(i));
    let x: Float32Array;
    if (pool && rows.length > 0) {
      x = await pool.render(
        rows.map((r) => r.px),
        side,
        views,
        size,
      );
    } else {
      x = new Float32Array(rows.length * per);
      rows.forEach(({ px }, r) => renderView(px, side, views[r]!, size, x, r * per));
    }
    emit('prepare-end', k);
    return {
      x,
      shape: [rows.length, size, size, 3],
      indices: rows.map((r) => r.i),
      labels: rows.map((r) => items[r.i]!.label),
      keys: rows.map((r) => items[r.i]!.key),
      views,
      epoch,
      batchIndex: k,
      failed,
    };
  };

  const pending: Promise<Batch>[] = [];
  let next = start;
  const fill = (): void => {
    while (pending.length < depth && next < total) {
      const p = prepare(next++);
      // Marked handled now: a prefetched batch may fail before the caller gets to await it.
      p.catch(() => undefined);
      pending.push(p);
    }
  };
  fill();
  while (pending.length > 0) {
    const b = await pending.shift()!;
    fill(); // the next batches start before the caller gets this one
    emit('yield', b.batchIndex);
    yield b;
  }
}
