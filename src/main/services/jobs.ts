// jobs.*: what the JobRunner is doing (imports, teacher training, mining, runs, exports).
import type { HandlerGroup, ServiceContext } from './context.js';
import { ApiError } from './types.js';

export function jobHandlers(ctx: ServiceContext): HandlerGroup<'jobs.list' | 'jobs.get'> {
  return {
    'jobs.list': () => ctx.jobs.list(),
    'jobs.get': ({ id }) => {
      const job = ctx.jobs.get(id);
      if (!job) throw new ApiError(`job ${id} not found`, 404);
      return job;
    },
  };
}
