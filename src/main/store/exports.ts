// Exports of a run's student and what their runtime measured (see shared/export-record.ts).
import { ExportRecord, type ExportKind, type ExportMeasure } from '../../shared/export-record.js';
import { nowIso, type Db } from './db.js';

interface ExportRow {
  id: number;
  run_id: number;
  kind: string;
  format: string;
  quantize: string;
  dir: string | null;
  bytes: number;
  n: number;
  accuracy: number | null;
  agreement: number | null;
  max_abs_diff: number | null;
  ms_per_image: number | null;
  warning: string | null;
  created_at: string;
}

function toRecord(r: ExportRow): ExportRecord {
  return ExportRecord.parse({
    id: r.id, runId: r.run_id, kind: r.kind, format: r.format, quantize: r.quantize, dir: r.dir,
    bytes: r.bytes, n: r.n, accuracy: r.accuracy, agreement: r.agreement, maxAbsDiff: r.max_abs_diff,
    msPerImage: r.ms_per_image, warning: r.warning, createdAt: r.created_at,
  });
}

export function addExport(
  db: Db,
  e: { runId: number; kind: ExportKind; format: ExportRecord['format']; quantize: ExportRecord['quantize']; dir: string | null } & ExportMeasure,
): ExportRecord {
  const info = db
    .prepare(
      `INSERT INTO exports (run_id, kind, format, quantize, dir, bytes, n, accuracy, agreement, max_abs_diff, ms_per_image, warning, created_at)
       VALUES (@runId, @kind, @format, @quantize, @dir, @bytes, @n, @accuracy, @agreement, @maxAbsDiff, @msPerImage, @warning, @createdAt)`,
    )
    .run({ ...e, createdAt: nowIso() });
  return toRecord(db.prepare('SELECT * FROM exports WHERE id = ?').get(Number(info.lastInsertRowid)) as ExportRow);
}

/** A run's exports of one kind, newest first. */
export function listExports(db: Db, runId: number, kind: ExportKind): ExportRecord[] {
  return (db.prepare('SELECT * FROM exports WHERE run_id = ? AND kind = ? ORDER BY id DESC').all(runId, kind) as ExportRow[]).map(toRecord);
}

/** The newest check of each format × quantization for a run: the Export page's table. */
export function latestChecks(db: Db, runId: number): ExportRecord[] {
  const rows = db
    .prepare(
      `SELECT e.* FROM exports e
       JOIN (SELECT MAX(id) id FROM exports WHERE run_id = ? AND kind = 'check' GROUP BY format, quantize) latest ON latest.id = e.id
       ORDER BY e.format, e.quantize`,
    )
    .all(runId) as ExportRow[];
  return rows.map(toRecord);
}
