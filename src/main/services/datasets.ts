// datasets.*: list/get/remove from the store; import and rescan run in this process but asynchronously
// (bounded-concurrency reads, small transactions) as tracked jobs with progress. Every dataset's
// folders are watched (chokidar): changes are re-imported and pushed as `dataset.changed`.
import fs from 'node:fs';
import path from 'node:path';
import type { HandlerGroup, ServiceContext } from './context.js';
import { ApiError } from './types.js';
import { importDataset, inspectFolder, rescanDataset, type ImportProgress } from '../datasets/import.js';
import { watchDataset, type DatasetWatcher } from '../datasets/watcher.js';

type DatasetMethods = 'datasets.list' | 'datasets.get' | 'datasets.inspectFolder' | 'datasets.create' | 'datasets.rescan' | 'datasets.remove';

export interface DatasetService {
  handlers: HandlerGroup<DatasetMethods>;
  /** Registered dataset folders (media roots). */
  roots(): string[];
  close(): Promise<void>;
}

export function datasetService(ctx: ServiceContext, opts: { watch: boolean }): DatasetService {
  const { store } = ctx;
  const watchers = new Map<number, DatasetWatcher>();
  const unwatch = async (datasetId: number) => {
    const w = watchers.get(datasetId);
    watchers.delete(datasetId);
    await w?.close().catch(() => {});
  };
  /** (Re)starts the watcher of a dataset: its folders may have changed. */
  const rewatch = async (datasetId: number) => {
    if (!opts.watch) return;
    await unwatch(datasetId);
    try {
      const w = watchDataset(store, datasetId, (id) => ctx.emit('dataset.changed', { id }), {
        onError: (e) => process.stderr.write(`distill: watching dataset ${datasetId}: ${e.message}\n`),
      });
      watchers.set(datasetId, w);
      // Files added before the initial scan ends would count as initial (ignored): wait for it,
      // but never let a slow scan hold an import job for long.
      await Promise.race([w.ready, new Promise((r) => setTimeout(r, 30_000).unref())]);
    } catch (e) {
      process.stderr.write(`distill: cannot watch dataset ${datasetId}: ${(e as Error).message}\n`);
    }
  };
  for (const { id } of store.db.prepare('SELECT id FROM datasets').all() as { id: number }[]) void rewatch(id);
  const afterImport = async (datasetId: number) => {
    await rewatch(datasetId);
    ctx.emit('dataset.changed', { id: datasetId });
  };
  const summary = (ref: number | string) => {
    const s = store.datasets.getDatasetSummary(ref);
    if (!s) throw new ApiError(`dataset "${ref}" not found`, 404);
    return s;
  };
  const progressOf = (report: (done: number, total: number, message?: string) => void) => (p: ImportProgress) => {
    if (p.phase === 'scan') report(0, 1, 'listing files');
    else if (p.phase === 'read') report(p.done, Math.max(1, p.total), `reading ${p.done}/${p.total}`);
    else report(p.total, Math.max(1, p.total), 'finishing');
  };
  return {
    handlers: {
      'datasets.list': () => store.datasets.listDatasets(),
      'datasets.get': ({ id }) => summary(id),
      'datasets.inspectFolder': async ({ path: folder }) => {
        try {
          return await inspectFolder(folder);
        } catch (e) {
          throw new ApiError((e as Error).message, 404);
        }
      },

      'datasets.create': ({ name, folders }) => {
        const trimmed = name.trim();
        if (store.datasets.findDatasetId(trimmed) !== null) throw new ApiError(`a dataset named "${trimmed}" already exists`, 409);
        // Fail fast on the obvious, before a job exists; the import re-checks (folders can vanish).
        for (const f of folders) {
          if (!path.isAbsolute(f.path)) throw new ApiError(`folder path must be absolute: ${f.path}`, 400);
          const st = fs.statSync(f.path, { throwIfNoEntry: false });
          if (!st?.isDirectory()) throw new ApiError(`not a folder: ${f.path}`, 404);
        }
        return ctx.jobs.track('import', async ({ progress, signal }) => {
          const result = await importDataset(store, { name: trimmed, folders }, progressOf(progress), { signal });
          await afterImport(result.dataset.id);
          return result;
        });
      },

      'datasets.rescan': ({ id }) => {
        const s = summary(id);
        return ctx.jobs.track('import', async ({ progress, signal }) => {
          const result = await rescanDataset(store, s.id, progressOf(progress), { signal });
          await afterImport(s.id);
          return result;
        });
      },
      'datasets.remove': async ({ id }) => {
        const s = summary(id);
        await unwatch(s.id);
        store.datasets.removeDataset(s.id);
        ctx.emit('dataset.changed', { id: s.id });
        return { ok: true as const };
      },
    },
    roots: () => {
      const rows = store.db.prepare('SELECT DISTINCT path FROM dataset_folders').all() as { path: string }[];
      return rows.map((r) => r.path);
    },
    close: async () => {
      await Promise.all([...watchers.keys()].map(unwatch));
    },
  };
}
