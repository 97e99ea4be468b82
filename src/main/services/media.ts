// Media for the renderer (served by `distill serve` under /media and by Electron's distill-media://):
// thumbnails by image id, original images by id, and files by path — only inside the registered
// dataset folders or the thumbnail cache, symlinks resolved first.
import fs from 'node:fs';
import path from 'node:path';
import type { ServiceContext } from './context.js';
import { ApiError, type MediaFile, type MediaSource } from './types.js';
import { imageTypeFor } from './content-type.js';

export function createMedia(ctx: ServiceContext, datasetRoots: () => string[]): MediaSource {
  const roots = () => [...datasetRoots(), ctx.store.thumbsDir];
  const asImage = (file: string): MediaFile => {
    const type = imageTypeFor(file);
    if (!type) throw new ApiError('not an image', 403);
    return { path: file, contentType: type };
  };
  return {
    async thumbnail(imageId) {
      throw new ApiError(`no thumbnail for image ${imageId} yet`, 404);
    },
    async image(imageId) {
      const img = ctx.store.images.getImage(imageId);
      if (!img) throw new ApiError(`image ${imageId} not found`, 404);
      return asImage(await guard(roots(), img.path));
    },
    async file(requested) {
      return asImage(await guard(roots(), requested));
    },
  };
}

/** Interim guard (to be replaced by src/main/datasets' resolveInside): realpath inside a realpath'd root. */
async function guard(roots: string[], requested: string): Promise<string> {
  if (!path.isAbsolute(requested)) throw new ApiError('path must be absolute', 403);
  const real = await fs.promises.realpath(requested).catch(() => null);
  if (!real) throw new ApiError('not found', 404);
  for (const root of roots) {
    const r = await fs.promises.realpath(root).catch(() => null);
    if (r && (real === r || real.startsWith(r + path.sep))) return real;
  }
  throw new ApiError('outside the dataset folders', 403);
}
