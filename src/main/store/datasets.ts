// Datasets and their folders; summaries (counts per role and class, skipped files) derived from images.
import path from 'node:path';
import type { DatasetFolder, DatasetSummary, FolderRole, SkippedFile } from '../../shared/domain.js';
import { FolderRole as FolderRoleSchema } from '../../shared/domain.js';
import { nowIso, writeTx, type Db } from './db.js';
import { findId, requireId, type IdOrName } from './lookup.js';

interface DatasetRow {
  id: number;
  name: string;
  created_at: string;
  updated_at: string;
}

export function createDataset(db: Db, name: string): number {
  const trimmed = name.trim();
  if (!trimmed) throw new Error('a dataset needs a name');
  if (db.prepare('SELECT 1 FROM datasets WHERE name = ?').get(trimmed)) {
    throw new Error(`dataset "${trimmed}" already exists`);
  }
  const now = nowIso();
  const info = db.prepare('INSERT INTO datasets (name, created_at, updated_at) VALUES (?, ?, ?)').run(trimmed, now, now);
  return Number(info.lastInsertRowid);
}

export function findDatasetId(db: Db, ref: IdOrName): number | null {
  return findId(db, 'datasets', ref);
}

export function requireDatasetId(db: Db, ref: IdOrName): number {
  return requireId(db, 'datasets', ref);
}

export function touchDataset(db: Db, id: number): void {
  db.prepare('UPDATE datasets SET updated_at = ? WHERE id = ?').run(nowIso(), id);
}

export function renameDataset(db: Db, ref: IdOrName, name: string): void {
  const id = requireDatasetId(db, ref);
  db.prepare('UPDATE datasets SET name = ?, updated_at = ? WHERE id = ?').run(name.trim(), nowIso(), id);
}

/** Deletes the dataset with its folders, images, minings and runs (files on disk are untouched). */
export function removeDataset(db: Db, ref: IdOrName): boolean {
  const id = findDatasetId(db, ref);
  if (id === null) return false;
  return db.prepare('DELETE FROM datasets WHERE id = ?').run(id).changes > 0;
}

interface FolderRow {
  id: number;
  path: string;
  role: string;
}

function toFolder(r: FolderRow): DatasetFolder {
  return { id: r.id, path: r.path, role: FolderRoleSchema.parse(r.role) };
}

export function listFolders(db: Db, datasetId: number): DatasetFolder[] {
  const rows = db.prepare('SELECT id, path, role FROM dataset_folders WHERE dataset_id = ? ORDER BY id').all(datasetId) as FolderRow[];
  return rows.map(toFolder);
}

/**
 * Adds a folder (stored as an absolute path) or returns the existing one. A folder already in the
 * dataset under another role is refused: its images' labels would silently change meaning.
 */
export function addFolder(db: Db, datasetId: number, folderPath: string, role: FolderRole): DatasetFolder {
  const abs = path.resolve(folderPath);
  return writeTx(db, () => {
    const existing = db
      .prepare('SELECT id, path, role FROM dataset_folders WHERE dataset_id = ? AND path = ?')
      .get(datasetId, abs) as FolderRow | undefined;
    if (existing) {
      if (existing.role !== role) {
        throw new Error(`folder ${abs} is already in this dataset as ${existing.role}, not ${role}`);
      }
      return toFolder(existing);
    }
    const info = db.prepare('INSERT INTO dataset_folders (dataset_id, role, path) VALUES (?, ?, ?)').run(datasetId, role, abs);
    touchDataset(db, datasetId);
    return { id: Number(info.lastInsertRowid), path: abs, role };
  });
}

export function removeFolder(db: Db, folderId: number): boolean {
  return db.prepare('DELETE FROM dataset_folders WHERE id = ?').run(folderId).changes > 0;
}

/** Class names (sorted) of the dataset's usable labeled and val images. */
export function datasetClasses(db: Db, datasetId: number): string[] {
  const rows = db
    .prepare(
      `SELECT DISTINCT label FROM images
       WHERE dataset_id = ? AND role IN ('labeled','val') AND status = 'ok' AND label IS NOT NULL`,
    )
    .all(datasetId) as { label: string }[];
  return rows.map((r) => r.label).sort();
}

export function skippedFiles(db: Db, datasetId: number): SkippedFile[] {
  const rows = db
    .prepare(`SELECT path, error FROM images WHERE dataset_id = ? AND status = 'skipped' ORDER BY path`)
    .all(datasetId) as { path: string; error: string | null }[];
  return rows.map((r) => ({ file: r.path, reason: r.error ?? 'unreadable' }));
}

export interface RoleCounts {
  labeled: Record<string, number>;
  unlabeled: number;
  val: Record<string, number>;
}

/** Usable images (status ok, duplicates counted once) per role and class. */
export function roleCounts(db: Db, datasetId: number): RoleCounts {
  const rows = db
    .prepare(
      `SELECT role, label, COUNT(*) AS n FROM images
       WHERE dataset_id = ? AND status = 'ok' GROUP BY role, label ORDER BY role, label`,
    )
    .all(datasetId) as { role: string; label: string | null; n: number }[];
  const out: RoleCounts = { labeled: {}, unlabeled: 0, val: {} };
  for (const r of rows) {
    if (r.role === 'unlabeled') out.unlabeled += r.n;
    else if ((r.role === 'labeled' || r.role === 'val') && r.label !== null) out[r.role][r.label] = r.n;
  }
  return out;
}

function summarize(db: Db, row: DatasetRow): DatasetSummary {
  const counts = roleCounts(db, row.id);
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    classes: datasetClasses(db, row.id),
    folders: listFolders(db, row.id),
    labeled: counts.labeled,
    unlabeled: counts.unlabeled,
    val: counts.val,
    skipped: skippedFiles(db, row.id),
  };
}

export function getDatasetSummary(db: Db, ref: IdOrName): DatasetSummary | null {
  const id = findDatasetId(db, ref);
  if (id === null) return null;
  const row = db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow;
  return summarize(db, row);
}

export function listDatasets(db: Db): DatasetSummary[] {
  const rows = db.prepare('SELECT * FROM datasets ORDER BY id').all() as DatasetRow[];
  return rows.map((r) => summarize(db, r));
}

/** When the dataset's images last changed (ISO time), for cache invalidation by the services. */
export function datasetUpdatedAt(db: Db, id: number): string | null {
  const row = db.prepare('SELECT updated_at FROM datasets WHERE id = ?').get(id) as { updated_at: string } | undefined;
  return row?.updated_at ?? null;
}
