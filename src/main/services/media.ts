// Media for the renderer (served by `distill serve` under /media and by Electron's distill-media://):
// thumbnails and originals by image id, and files by path, every one through the path guard of
// src/main/datasets: only real files inside the registered dataset folders or the thumbnail cache.
import type { ServiceContext } from './context.js';
import { ApiError, type MediaFile, type MediaSource } from './types.js';
import { imageTypeFor } from './content-type.js';
import { resolveInsideAsync } from '../datasets/path-guard.js';
import { ThumbnailCache } from '../datasets/thumbnails.js';

export function createMedia(ctx: ServiceContext, datasetRoots: () => string[]): MediaSource {
  const thumbs = new ThumbnailCache(ctx.store.thumbsDir);
  const allowed = async (roots: string[], requested: string): Promise<MediaFile> => {
    const real = await resolveInsideAsync(roots, requested);
    if (!real) throw new ApiError('refused: not a file inside the dataset folders', 403);
    const type = imageTypeFor(real);
    if (!type) throw new ApiError('refused: not an image', 403);
    return { path: real, contentType: type };
  };
  const indexed = (imageId: number) => {
    const img = ctx.store.images.getImage(imageId);
    if (!img) throw new ApiError(`image ${imageId} not found`, 404);
    return img;
  };
  return {
    async thumbnail(imageId) {
      const img = indexed(imageId);
      const source = await allowed(datasetRoots(), img.path);
      if (!img.hash) throw new ApiError(`image ${imageId} was never read (${img.error ?? img.status})`, 404);
      let file: string;
      try {
        file = await thumbs.get(source.path, img.hash);
      } catch (e) {
        throw new ApiError(`cannot make a thumbnail of image ${imageId}: ${(e as Error).message}`, 404);
      }
      return { path: file, contentType: 'image/jpeg' };
    },
    async image(imageId) {
      return allowed(datasetRoots(), indexed(imageId).path);
    },
    async file(requested) {
      return allowed([...datasetRoots(), ctx.store.thumbsDir], requested);
    },
  };
}
