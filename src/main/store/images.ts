// Indexed image files of a dataset: one row per file path, with its validation outcome.
import path from 'node:path';
import { FolderRole as FolderRoleSchema, type FolderRole, type ImageRecord } from '../../shared/domain.js';
import { nowIso, writeTx, type Db } from './db.js';

export type ImageStatus = ImageRecord['status'];

interface ImageRow {
  id: number;
  dataset_id: number;
  folder_id: number;
  role: string;
  path: string;
  hash: string;
  bytes: number;
  width: number | null;
  height: number | null;
  label: string | null;
  status: ImageStatus;
  error: string | null;
}

const COLUMNS = 'id, dataset_id, folder_id, role, path, hash, bytes, width, height, label, status, error';

function toRecord(r: ImageRow): ImageRecord {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    folderId: r.folder_id,
    role: FolderRoleSchema.parse(r.role),
    path: r.path,
    hash: r.hash,
    bytes: r.bytes,
    width: r.width,
    height: r.height,
    label: r.label,
    status: r.status,
    error: r.error,
  };
}

/** A file as read by the importer. Readable files come in as 'ok'; duplicates are settled afterwards. */
export interface ImageUpsert {
  datasetId: number;
  folderId: number;
  role: FolderRole;
  path: string;
  hash: string;
  bytes: number;
  mtimeMs: number;
  width: number | null;
  height: number | null;
  format: string | null;
  label: string | null;
  status: 'ok' | 'skipped';
  error: string | null;
}

/**
 * Inserts or updates rows by (dataset, path) in one transaction. A file whose content hash changed
 * loses its cached teacher predictions: they described the old pixels.
 */
export function upsertImages(db: Db, rows: readonly ImageUpsert[]): void {
  if (rows.length === 0) return;
  const prev = db.prepare('SELECT id, hash FROM images WHERE dataset_id = ? AND path = ?');
  const dropPreds = db.prepare('DELETE FROM teacher_predictions WHERE image_id = ?');
  const upsert = db.prepare(
    `INSERT INTO images (dataset_id, folder_id, role, path, hash, bytes, mtime_ms, width, height, format, label, status, error, updated_at)
     VALUES (@datasetId, @folderId, @role, @path, @hash, @bytes, @mtimeMs, @width, @height, @format, @label, @status, @error, @now)
     ON CONFLICT (dataset_id, path) DO UPDATE SET
       folder_id = excluded.folder_id, role = excluded.role, hash = excluded.hash, bytes = excluded.bytes,
       mtime_ms = excluded.mtime_ms, width = excluded.width, height = excluded.height, format = excluded.format,
       label = excluded.label, status = excluded.status, error = excluded.error, updated_at = excluded.updated_at`,
  );
  const now = nowIso();
  writeTx(db, () => {
    for (const r of rows) {
      const old = prev.get(r.datasetId, r.path) as { id: number; hash: string } | undefined;
      if (old && old.hash !== r.hash) dropPreds.run(old.id);
      upsert.run({ ...r, now });
    }
  });
}

/** What the importer needs to decide whether a file changed since it was last read. */
export interface IndexedFile {
  id: number;
  bytes: number;
  mtimeMs: number;
  status: ImageStatus;
  label: string | null;
}

export function folderIndex(db: Db, folderId: number): Map<string, IndexedFile> {
  const rows = db
    .prepare('SELECT id, path, bytes, mtime_ms AS mtimeMs, status, label FROM images WHERE folder_id = ?')
    .all(folderId) as (IndexedFile & { path: string })[];
  return new Map(rows.map((r) => [r.path, { id: r.id, bytes: r.bytes, mtimeMs: r.mtimeMs, status: r.status, label: r.label }]));
}

export function markMissing(db: Db, ids: readonly number[]): number {
  if (ids.length === 0) return 0;
  const stmt = db.prepare(`UPDATE images SET status = 'missing', error = 'file no longer exists', updated_at = ? WHERE id = ? AND status != 'missing'`);
  const now = nowIso();
  return writeTx(db, () => ids.reduce((n, id) => n + stmt.run(now, id).changes, 0));
}

/**
 * Settles duplicates (same content hash) so each content counts once. The copy kept is chosen by role
 * (val, then labeled, then unlabeled) and then path: a val image copied into the unlabeled pool is the
 * one that stays, so validation never leaks into training. Returns the rows whose status changed.
 */
export function recomputeDuplicates(db: Db, datasetId: number): number {
  return writeTx(
    db,
    () =>
      db
        .prepare(
          `UPDATE images SET
             status = CASE WHEN r.rn = 1 THEN 'ok' ELSE 'duplicate' END,
             error  = CASE WHEN r.rn = 1 THEN NULL ELSE 'duplicate of ' || r.keeper END,
             updated_at = @now
           FROM (
             SELECT id, ROW_NUMBER() OVER w AS rn, FIRST_VALUE(path) OVER w AS keeper
             FROM images WHERE dataset_id = @ds AND status IN ('ok','duplicate')
             WINDOW w AS (PARTITION BY hash ORDER BY CASE role WHEN 'val' THEN 0 WHEN 'labeled' THEN 1 ELSE 2 END, path)
           ) AS r
           WHERE images.id = r.id
             AND (images.status IS NOT (CASE WHEN r.rn = 1 THEN 'ok' ELSE 'duplicate' END)
                  OR images.error IS NOT (CASE WHEN r.rn = 1 THEN NULL ELSE 'duplicate of ' || r.keeper END))`,
        )
        .run({ ds: datasetId, now: nowIso() }).changes,
  );
}

export function getImage(db: Db, id: number): ImageRecord | null {
  const row = db.prepare(`SELECT ${COLUMNS} FROM images WHERE id = ?`).get(id) as ImageRow | undefined;
  return row ? toRecord(row) : null;
}

export function getImageByPath(db: Db, datasetId: number, filePath: string): ImageRecord | null {
  const row = db.prepare(`SELECT ${COLUMNS} FROM images WHERE dataset_id = ? AND path = ?`).get(datasetId, filePath) as
    | ImageRow
    | undefined;
  return row ? toRecord(row) : null;
}

export interface ListImagesOptions {
  role?: FolderRole;
  /** Default 'ok': the usable, deduplicated images. */
  status?: ImageStatus | 'any';
  label?: string;
}

/** Images of a dataset in path order (the trainer's and miner's input lists). */
export function listImages(db: Db, datasetId: number, opts: ListImagesOptions = {}): ImageRecord[] {
  const where = ['dataset_id = @ds'];
  const status = opts.status ?? 'ok';
  if (status !== 'any') where.push('status = @status');
  if (opts.role) where.push('role = @role');
  if (opts.label !== undefined) where.push('label = @label');
  const rows = db
    .prepare(`SELECT ${COLUMNS} FROM images WHERE ${where.join(' AND ')} ORDER BY path`)
    .all({ ds: datasetId, status, role: opts.role, label: opts.label }) as ImageRow[];
  return rows.map(toRecord);
}

/** Ids of rows at or below a folder path (a removed directory's files). */
export function imageIdsUnder(db: Db, datasetId: number, dir: string): number[] {
  const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
  const rows = db
    .prepare(`SELECT id FROM images WHERE dataset_id = ? AND (path = ? OR substr(path, 1, ?) = ?)`)
    .all(datasetId, dir, prefix.length, prefix) as { id: number }[];
  return rows.map((r) => r.id);
}

/** Content hashes of a role's usable images (mining excludes unlabeled copies of val images by hash). */
export function hashesOfRole(db: Db, datasetId: number, role: FolderRole): Set<string> {
  const rows = db
    .prepare(`SELECT DISTINCT hash FROM images WHERE dataset_id = ? AND role = ? AND status = 'ok'`)
    .all(datasetId, role) as { hash: string }[];
  return new Set(rows.map((r) => r.hash));
}

/** Deletes rows of files that are gone (status 'missing'), with their predictions; returns how many. */
export function pruneMissing(db: Db, datasetId: number): number {
  return writeTx(db, () => db.prepare(`DELETE FROM images WHERE dataset_id = ? AND status = 'missing'`).run(datasetId).changes);
}
