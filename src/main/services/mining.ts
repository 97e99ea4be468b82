// mining.*: the store's minings; a new mining runs the CLI (`distill mine`) and, when done, tells the
// Browser that the dataset's "mined" flags changed.
import type { HandlerGroup, ServiceContext } from './context.js';
import { ApiError } from './types.js';

export function miningHandlers(ctx: ServiceContext): HandlerGroup<'mining.list' | 'mining.run'> {
  const { store, jobs } = ctx;
  const datasetId = (ref: number | string): number => {
    const id = store.datasets.findDatasetId(ref);
    if (id === null) throw new ApiError(`dataset "${ref}" not found`, 404);
    return id;
  };
  return {
    'mining.list': ({ dataset }) => store.minings.listMinings(datasetId(dataset)),

    'mining.run': ({ dataset, teacher, perClass, minConfidence }) => {
      const ds = datasetId(dataset);
      const t = store.teachers.findTeacherId(teacher);
      if (t === null) throw new ApiError(`teacher "${teacher}" not found`, 404);
      return jobs.spawnCli(
        'mine',
        ['mine', '--dataset', String(ds), '--teacher', String(t), '--per-class', String(perClass), '--min-confidence', String(minConfidence)],
        { onExit: (info) => info.status === 'done' && ctx.emit('dataset.changed', { id: ds }) },
      );
    },
  };
}
