// The input pipeline's public surface (decode → cache → augment → batch with prefetch).
export { TRAIN_MARGIN, trainSide, centerOffset, centerCrop, decodeForTraining, decodeForEval } from './decode.js';
export {
  ImageCache,
  sharedImageCache,
  persistSharedImageCache,
  cacheKey,
  DEFAULT_CACHE_BYTES,
  type DecodeMode,
  type ImageRef,
  type ImageCacheOptions,
  type ImageCacheStats,
  type WarmProgress,
  type WarmResult,
} from './image-cache.js';
export { centerView, randomResizedCropView, renderView, trainingView, type AugmentOptions, type CropView } from './augment.js';
export { batches, batchCount, epochOrder, type Batch, type BatchEvent, type BatchItem, type BatcherOptions } from './batcher.js';
export { measurePipeline, type MeasureOptions, type PipelineMeasurement } from './measure.js';
export { itemsFromFolder, type FolderItems } from './folder-items.js';
export { Rng, hashSeed } from './rng.js';
export { RenderPool, sharedRenderPool } from './render-pool.js';
export { makeRenderer, type RenderFn, type RenderView } from './render.js';
