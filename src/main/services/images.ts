// images.*: the Browser's filtered, sorted, paged query and one image's detail with every stored
// probability vector (teachers' and runs').
import type { HandlerGroup, ServiceContext } from './context.js';
import { ApiError } from './types.js';
import { NotFoundError } from '../store/index.js';

export function imageHandlers(ctx: ServiceContext): HandlerGroup<'images.query' | 'images.detail'> {
  const { store } = ctx;
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
  };
}
