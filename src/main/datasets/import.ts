// Indexes a dataset's folders into the store: every image file is read once, hashed, and validated;
// unreadable files are recorded with a reason and never stop the import. Re-running reads only files
// whose size or mtime changed, and marks vanished files missing. Reads run with bounded concurrency
// (sharp decodes off the main thread) and rows are written in small transactions, so the event loop
// stays responsive while 25,000 images go through.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DatasetSummary, FolderRole, SkippedFile } from '../../shared/domain.js';
import { writeTx, type Db } from '../store/db.js';
import { Store } from '../store/index.js';
import { addFolder, createDataset, getDatasetSummary, listFolders, requireDatasetId, touchDataset } from '../store/datasets.js';
import { folderIndex, markMissing, recomputeDuplicates, upsertImages, type ImageUpsert, type IndexedFile } from '../store/images.js';
import type { IdOrName } from '../store/lookup.js';
import type { OpenOptions } from './image-open.js';
import { probeImage } from './probe.js';
import { walk, type FoundFile } from './scan.js';

export { inspectFolder, type FolderGuess } from './inspect.js';

export interface ImportSpec {
  name: string;
  folders: { path: string; role: FolderRole }[];
}

export interface ImportProgress {
  phase: 'scan' | 'read' | 'finish';
  /** Files read so far in this phase, of total. */
  done: number;
  total: number;
}

export interface ImportOptions extends OpenOptions {
  /** Files read and decoded at once (sharp works on libuv's thread pool, 4 threads by default). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** The CLI's `dataset add --json` result, plus what this pass did. */
export interface ImportResult {
  dataset: DatasetSummary;
  labeled: Record<string, number>;
  unlabeled: number;
  val: Record<string, number>;
  skipped: SkippedFile[];
  /** Files read and validated in this pass (new or changed). */
  read: number;
  /** Files whose size and mtime matched the index, not read again. */
  unchanged: number;
  /** Indexed files that no longer exist (marked 'missing' in this pass). */
  missing: number;
  /** Files whose content duplicates another file of the dataset (counted once). */
  duplicates: number;
  /** Non-image files present in the folders. */
  ignored: number;
  /** Rows written or marked missing in this pass: 0 means nothing changed. */
  updated: number;
}

export type ProgressFn = (p: ImportProgress) => void;

type StoreLike = Store | Db;
const dbOf = (s: StoreLike): Db => (s instanceof Store ? s.db : s);

// One pass at a time per dataset (an import and the watcher's re-import would otherwise race).
const locks = new Map<number, Promise<unknown>>();
async function withDatasetLock<T>(datasetId: number, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(datasetId) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(fn);
  locks.set(datasetId, run);
  try {
    return await run;
  } finally {
    if (locks.get(datasetId) === run) locks.delete(datasetId);
  }
}

function overlaps(a: string, b: string): boolean {
  const rel = path.relative(a, b);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function checkFolders(folders: ImportSpec['folders'], existing: { path: string }[]): Promise<{ path: string; role: FolderRole }[]> {
  const out: { path: string; role: FolderRole }[] = [];
  for (const f of folders) {
    const abs = path.resolve(f.path);
    const st = await fs.promises.stat(abs).catch(() => null);
    if (!st) throw new Error(`folder not found: ${abs}`);
    if (!st.isDirectory()) throw new Error(`not a folder: ${abs}`);
    for (const o of out) {
      if (overlaps(o.path, abs) || overlaps(abs, o.path)) throw new Error(`folders overlap: ${o.path} and ${abs}`);
    }
    for (const e of existing) {
      if (e.path !== abs && (overlaps(e.path, abs) || overlaps(abs, e.path))) throw new Error(`folder ${abs} overlaps ${e.path}, already in the dataset`);
    }
    out.push({ path: abs, role: f.role });
  }
  return out;
}

/**
 * Creates the dataset (or adds folders to an existing one of that name) and indexes all its folders.
 * Folders must exist; a folder already in the dataset is rescanned, reading only new or changed files.
 */
export async function importDataset(store: StoreLike, spec: ImportSpec, onProgress?: ProgressFn, opts: ImportOptions = {}): Promise<ImportResult> {
  const db = dbOf(store);
  const name = spec.name.trim();
  if (!name) throw new Error('a dataset needs a name');
  if (spec.folders.length === 0) throw new Error('a dataset needs at least one folder');
  const existingId = db.prepare('SELECT id FROM datasets WHERE name = ?').get(name) as { id: number } | undefined;
  const folders = await checkFolders(spec.folders, existingId ? listFolders(db, existingId.id) : []);
  const datasetId = writeTx(db, () => {
    const id = existingId?.id ?? createDataset(db, name);
    for (const f of folders) addFolder(db, id, f.path, f.role);
    return id;
  });
  return rescanDataset(db, datasetId, onProgress, opts);
}

/** Re-indexes every folder of a dataset (the `datasets.rescan` API and `dataset add` on the same folders). */
export async function rescanDataset(store: StoreLike, ref: IdOrName, onProgress?: ProgressFn, opts: ImportOptions = {}): Promise<ImportResult> {
  const db = dbOf(store);
  const datasetId = requireDatasetId(db, ref);
  return withDatasetLock(datasetId, async () => {
    onProgress?.({ phase: 'scan', done: 0, total: 0 });
    const found: Located[] = [];
    let ignored = 0;
    const scope = new Map<string, IndexedFile>();
    for (const f of listFolders(db, datasetId)) {
      for (const [p, row] of folderIndex(db, f.id)) scope.set(p, row);
      const w = await walk(f.path, f.role);
      ignored += w.ignored;
      for (const file of w.files) found.push({ ...file, folderId: f.id, role: f.role });
    }
    return sync(db, datasetId, found, scope, ignored, onProgress, opts);
  });
}

/**
 * Re-indexes only the given paths (files or folders, added, changed or removed): what the folder
 * watcher calls with the paths chokidar reported. Paths outside the dataset's folders are ignored.
 */
export async function reimportPaths(store: StoreLike, ref: IdOrName, paths: readonly string[], opts: ImportOptions = {}): Promise<ImportResult> {
  const db = dbOf(store);
  const datasetId = requireDatasetId(db, ref);
  return withDatasetLock(datasetId, async () => {
    const folders = listFolders(db, datasetId);
    const found: Located[] = [];
    const scope = new Map<string, IndexedFile>();
    let ignored = 0;
    const seen = new Set<string>();
    for (const raw of paths) {
      const p = path.resolve(raw);
      const folder = folders.find((f) => overlaps(f.path, p));
      if (!folder) continue;
      // Rows at this path or below it are the ones that may have vanished.
      const index = folderIndex(db, folder.id);
      for (const [rowPath, row] of index) if (overlaps(p, rowPath)) scope.set(rowPath, row);
      const w = await walk(folder.path, folder.role, p);
      ignored += w.ignored;
      for (const file of w.files) {
        if (seen.has(file.path)) continue;
        seen.add(file.path);
        found.push({ ...file, folderId: folder.id, role: folder.role });
        const prev = index.get(file.path);
        if (prev) scope.set(file.path, prev);
      }
    }
    return sync(db, datasetId, found, scope, ignored, undefined, opts);
  });
}

interface Located extends FoundFile {
  folderId: number;
  role: FolderRole;
}

async function sync(
  db: Db,
  datasetId: number,
  found: Located[],
  scope: Map<string, IndexedFile>,
  ignored: number,
  onProgress: ProgressFn | undefined,
  opts: ImportOptions,
): Promise<ImportResult> {
  const toRead: Located[] = [];
  const direct: ImageUpsert[] = [];
  let unchanged = 0;
  const present = new Set<string>();
  for (const f of found) {
    present.add(f.path);
    const prev = scope.get(f.path);
    if (prev && prev.status !== 'missing' && prev.bytes === f.bytes && prev.mtimeMs === f.mtimeMs && prev.label === f.label) {
      unchanged++;
      continue;
    }
    if (f.misplaced) direct.push(row(datasetId, f, '', null, { ok: false, reason: f.misplaced }));
    else toRead.push(f);
  }
  const vanished = [...scope].filter(([p, r]) => !present.has(p) && r.status !== 'missing').map(([, r]) => r.id);
  const missing = markMissing(db, vanished);
  upsertImages(db, direct);

  const total = toRead.length;
  onProgress?.({ phase: 'read', done: 0, total });
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  let next = 0;
  let done = 0;
  let batch: ImageUpsert[] = [];
  const gone: number[] = [];
  const flush = () => {
    upsertImages(db, batch);
    batch = [];
  };
  const worker = async () => {
    while (next < toRead.length && !opts.signal?.aborted) {
      const f = toRead[next++]!;
      let buf: Buffer;
      try {
        buf = await fs.promises.readFile(f.path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          const prev = scope.get(f.path);
          if (prev) gone.push(prev.id);
        } else {
          batch.push(row(datasetId, f, '', null, { ok: false, reason: `cannot read file: ${(e as Error).message}` }));
        }
        done++;
        onProgress?.({ phase: 'read', done, total });
        continue;
      }
      const hash = crypto.createHash('sha256').update(buf).digest('hex');
      // Size and mtime as read, not as listed: a file rewritten meanwhile is re-read next time.
      const probe = await probeImage(buf, opts);
      batch.push(row(datasetId, { ...f, bytes: buf.length }, hash, probe.ok ? probe.format : null, probe));
      done++;
      if (batch.length >= 64) flush();
      onProgress?.({ phase: 'read', done, total });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, total)) }, worker));
  flush();
  const missingLate = markMissing(db, gone);
  if (opts.signal?.aborted) throw new Error('import cancelled');

  onProgress?.({ phase: 'finish', done: total, total });
  recomputeDuplicates(db, datasetId);
  touchDataset(db, datasetId);
  const summary = getDatasetSummary(db, datasetId)!;
  const duplicates = (db.prepare(`SELECT COUNT(*) AS n FROM images WHERE dataset_id = ? AND status = 'duplicate'`).get(datasetId) as { n: number }).n;
  return {
    dataset: summary,
    labeled: summary.labeled,
    unlabeled: summary.unlabeled,
    val: summary.val,
    skipped: summary.skipped,
    read: total - gone.length,
    unchanged,
    missing: missing + missingLate,
    duplicates,
    ignored,
    updated: total + direct.length + missing + missingLate,
  };
}

function row(
  datasetId: number,
  f: Located,
  hash: string,
  format: string | null,
  probe: { ok: true; width: number; height: number } | { ok: false; reason: string },
): ImageUpsert {
  return {
    datasetId,
    folderId: f.folderId,
    role: f.role,
    path: f.path,
    hash,
    bytes: f.bytes,
    mtimeMs: f.mtimeMs,
    width: probe.ok ? probe.width : null,
    height: probe.ok ? probe.height : null,
    format,
    label: f.label,
    status: probe.ok ? 'ok' : 'skipped',
    error: probe.ok ? null : probe.reason,
  };
}
