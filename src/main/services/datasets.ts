// datasets.*: list/get/remove from the store. Import, rescan, folder inspection and watching come from
// src/main/datasets (helper C) and are wired here as soon as that module lands.
import type { HandlerGroup, ServiceContext } from './context.js';
import { ApiError } from './types.js';

type DatasetMethods = 'datasets.list' | 'datasets.get' | 'datasets.inspectFolder' | 'datasets.create' | 'datasets.rescan' | 'datasets.remove';

export interface DatasetService {
  handlers: HandlerGroup<DatasetMethods>;
  /** Registered dataset folders (media roots). */
  roots(): string[];
  close(): Promise<void>;
}

export function datasetService(ctx: ServiceContext, _opts: { watch: boolean }): DatasetService {
  const { store } = ctx;
  const summary = (ref: number | string) => {
    const s = store.datasets.getDatasetSummary(ref);
    if (!s) throw new ApiError(`dataset "${ref}" not found`, 404);
    return s;
  };
  const notYet = (): never => {
    throw new ApiError('dataset import is not available in this build yet', 409);
  };
  return {
    handlers: {
      'datasets.list': () => store.datasets.listDatasets(),
      'datasets.get': ({ id }) => summary(id),
      'datasets.inspectFolder': () => notYet(),
      'datasets.create': () => notYet(),
      'datasets.rescan': () => notYet(),
      'datasets.remove': ({ id }) => {
        const s = summary(id);
        store.datasets.removeDataset(s.id);
        ctx.emit('dataset.changed', { id: s.id });
        return { ok: true as const };
      },
    },
    roots: () => {
      const rows = store.db.prepare('SELECT DISTINCT path FROM dataset_folders').all() as { path: string }[];
      return rows.map((r) => r.path);
    },
    close: async () => {},
  };
}
