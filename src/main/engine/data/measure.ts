// Throughput of the input pipeline alone (decode + cache + augment + batch, no model): what the
// bench's `--pipeline` figure is compared against, and the ceiling on training img/s from data.
import { batches, type BatchItem } from './batcher.js';
import type { AugmentOptions } from './augment.js';
import { ImageCache, type ImageCacheOptions } from './image-cache.js';
import type { RenderPool } from './render-pool.js';

export interface PipelineMeasurement {
  /** Images per second over the whole measurement. */
  imgPerSec: number;
  images: number;
  seconds: number;
  /** Passes over the items started (the last may be partial). */
  epochs: number;
  /** img/s during the first pass when it had to decode (null when the cache was already warm). */
  coldImgPerSec: number | null;
  /** img/s over passes that found every image cached (null when none ran). */
  warmImgPerSec: number | null;
  /** Files decoded during the measurement. */
  decodes: number;
  /** Seconds the consumer waited for a batch (all of `seconds` when stepMs is 0; ~0 when the pipeline keeps up). */
  stallSeconds: number;
  size: number;
  batch: number;
}

export interface MeasureOptions {
  /** Reuse a cache (e.g. already warm). Default: a fresh one, closed at the end, so the first pass is cold. */
  cache?: ImageCache;
  cacheOptions?: ImageCacheOptions;
  seed?: number;
  /** Default: flip + crop scale ≥ 0.5, as in training. */
  augment?: AugmentOptions | false;
  prefetch?: number;
  /** Where views are rendered (see BatcherOptions.renderer). */
  renderer?: RenderPool | null;
  /**
   * Simulated training step: the consumer keeps this thread busy this many ms per batch, the way a
   * synchronous training step does, so the figure shows whether the pipeline keeps up beside it.
   */
  stepMs?: number;
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: a training step holds the thread, it does not sleep
  }
}

export async function measurePipeline(
  items: readonly BatchItem[],
  size: number,
  batch: number,
  seconds: number,
  opts: MeasureOptions = {},
): Promise<PipelineMeasurement> {
  if (items.length === 0) throw new Error('measurePipeline: no items');
  if (!(seconds > 0)) throw new Error(`measurePipeline: seconds must be > 0, got ${seconds}`);
  const cache = opts.cache ?? new ImageCache(opts.cacheOptions);
  const augment = opts.augment ?? { flip: true, cropScaleMin: 0.5 };
  const decodes0 = cache.stats().decodes;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let images = 0;
  let epochs = 0;
  let stallMs = 0;
  let cold = { images: 0, ms: 0 };
  const warm = { images: 0, ms: 0 };
  try {
    for (let epoch = 0; performance.now() < deadline; epoch++) {
      epochs++;
      const e0 = performance.now();
      const d0 = cache.stats().decodes;
      let n = 0;
      const it = batches({ items, size, batchSize: batch, seed: opts.seed ?? 0, epoch, augment, cache, prefetch: opts.prefetch, renderer: opts.renderer });
      try {
        for (;;) {
          const w0 = performance.now();
          const r = await it.next();
          stallMs += performance.now() - w0;
          if (r.done) break;
          n += r.value.indices.length;
          if (opts.stepMs) busy(opts.stepMs);
          if (performance.now() >= deadline) break;
        }
      } finally {
        await it.return(undefined);
      }
      const ms = performance.now() - e0;
      images += n;
      if (cache.stats().decodes > d0) cold = { images: cold.images + n, ms: cold.ms + ms };
      else {
        warm.images += n;
        warm.ms += ms;
      }
    }
  } finally {
    if (!opts.cache) await cache.close();
  }
  const elapsed = (performance.now() - t0) / 1000;
  return {
    imgPerSec: images / elapsed,
    images,
    seconds: elapsed,
    epochs,
    coldImgPerSec: cold.ms > 0 ? cold.images / (cold.ms / 1000) : null,
    warmImgPerSec: warm.ms > 0 ? warm.images / (warm.ms / 1000) : null,
    decodes: cache.stats().decodes - decodes0,
    stallSeconds: stallMs / 1000,
    size,
    batch,
  };
}
