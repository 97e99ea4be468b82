// images.*: the Browser's filtered, sorted, paged query and one image's detail with every stored
// probability vector (teachers' and runs').
import type { HandlerGroup, ServiceContext } from './context.js';
import { ApiError } from './types.js';
import { NotFoundError } from '../store/index.js';

export function imageHandlers(ctx: ServiceContext): HandlerGroup<'images.query' | 'images.detail' | 'images.gradCam'> {
  const { store, jobs } = ctx;
  return {
    'images.query': (q) => {
      try {
        return store.browse.queryImages(q);
      } catch (e) {
        if (e instanceof NotFoundError) throw new ApiError(e.message, 404);
        throw e;
      }
    },
    'images.detail': ({ id }) => {
      const image = store.browse.imageRow(id);
      if (!image) throw new ApiError(`image ${id} not found`, 404);
      return { image, probabilities: store.browse.imageProbabilities(id) };
    },
    'images.gradCam': ({ id, run }) => {
      const image = store.images.getImage(id);
      if (!image) throw new ApiError(`image ${id} not found`, 404);
      // The run asked for, else the newest finished student on this image's dataset (not a teacher's own run).
      const chosen =
        run !== undefined
          ? store.runs.getRun(run)
          : store.runs.listRuns({ datasetId: image.datasetId, status: 'completed' }).filter((r) => !r.flags.some((f) => f.startsWith('teacher:'))).at(-1) ?? null;
      if (!chosen) throw new ApiError(run !== undefined ? `run ${run} not found` : 'no finished run on this dataset yet: train a student first', 404);
      return jobs.spawnCli('explain', ['explain', String(chosen.id), '--image', image.path]);
    },
  };
}
