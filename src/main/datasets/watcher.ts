// Watches a dataset's folders (chokidar) and re-imports just the paths that changed, debounced, so
// images added, removed or renamed while the app is open show up within a few seconds.
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Db } from '../store/db.js';
import { listFolders, requireDatasetId } from '../store/datasets.js';
import { Store } from '../store/index.js';
import type { IdOrName } from '../store/lookup.js';
import { reimportPaths, type ImportOptions, type ImportResult } from './import.js';
import { isHidden } from './scan.js';

export interface WatchOptions extends ImportOptions {
  /** Quiet time after the last event before re-importing (ms). */
  debounceMs?: number;
  /** A file counts as written once its size is stable this long (ms). */
  stabilityMs?: number;
  /** Poll instead of inotify/FSEvents (network drives). */
  usePolling?: boolean;
  onError?: (err: Error) => void;
  /** Called after each re-import that changed something, with its result. */
  onResult?: (result: ImportResult) => void;
}

export interface DatasetWatcher {
  /** Resolves once the initial directory scan is done and events are being delivered. */
  ready: Promise<void>;
  /** Stops watching and waits for a re-import in progress. */
  close(): Promise<void>;
}

export function watchDataset(
  store: Store | Db,
  ref: IdOrName,
  onChange: (datasetId: number) => void,
  opts: WatchOptions = {},
): DatasetWatcher {
  const db = store instanceof Store ? store.db : store;
  const datasetId = requireDatasetId(db, ref);
  const roots = listFolders(db, datasetId).map((f) => f.path);
  const stability = opts.stabilityMs ?? 500;
  const watcher: FSWatcher = watch(roots, {
    ignoreInitial: true,
    persistent: true,
    usePolling: opts.usePolling ?? false,
    awaitWriteFinish: { stabilityThreshold: stability, pollInterval: Math.max(25, Math.min(100, stability / 4)) },
    ignored: (p: string) => isHidden(path.basename(p)),
  });

  const pending = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const report = (e: unknown) => opts.onError?.(e instanceof Error ? e : new Error(String(e)));

  const flush = () => {
    timer = null;
    if (closed || pending.size === 0) return;
    const paths = [...pending];
    pending.clear();
    running = running
      .then(async () => {
        if (closed) return;
        const result = await reimportPaths(db, datasetId, paths, opts);
        if (result.updated > 0) {
          opts.onResult?.(result);
          onChange(datasetId);
        }
      })
      .catch(report);
  };

  watcher.on('all', (_event, p) => {
    pending.add(p);
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, opts.debounceMs ?? 750);
  });
  watcher.on('error', report);

  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await watcher.close();
      await running;
    },
  };
}
