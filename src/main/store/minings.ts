// Minings: a teacher's class-balanced top-K selection of the unlabeled pool, kept with its parameters.
import { z } from 'zod';
import { MiningRecord } from '../../shared/domain.js';
import { nowIso, writeTx, type Db } from './db.js';
import { requireId, type IdOrName } from './lookup.js';

interface MiningRow {
  id: number;
  dataset_id: number;
  teacher_id: number;
  per_class: number;
  min_confidence: number;
  selected: number;
  per_class_selected_json: string;
  shortfall_json: string;
  excluded_duplicates: number;
  created_at: string;
}

const Counts = z.record(z.string(), z.number().int());

function toRecord(r: MiningRow): MiningRecord {
  return MiningRecord.parse({
    id: r.id,
    datasetId: r.dataset_id,
    teacherId: r.teacher_id,
    perClass: r.per_class,
    minConfidence: r.min_confidence,
    selected: r.selected,
    perClassSelected: Counts.parse(JSON.parse(r.per_class_selected_json)),
    shortfall: Counts.parse(JSON.parse(r.shortfall_json)),
    excludedDuplicates: r.excluded_duplicates,
    createdAt: r.created_at,
  });
}

export interface MiningSelection {
  imageId: number;
  /** The teacher's pseudo-label. */
  label: string;
  confidence: number;
}

export interface NewMining {
  datasetId: number;
  teacherId: number;
  perClass: number;
  minConfidence: number;
  /** The teacher's classes: every one gets a count and, when short of perClass, a shortfall. */
  classes: readonly string[];
  excludedDuplicates?: number;
  selections: readonly MiningSelection[];
}

/**
 * Records a mining and its selection in one transaction. Counts and shortfalls are derived from the
 * selection itself; rank is the position within its class by confidence (0 = most confident).
 */
export function createMining(db: Db, m: NewMining): MiningRecord {
  const perClassSelected: Record<string, number> = Object.fromEntries(m.classes.map((c) => [c, 0]));
  for (const s of m.selections) {
    if (!(s.label in perClassSelected)) throw new Error(`selection label "${s.label}" is not one of the teacher's classes`);
    perClassSelected[s.label]! += 1;
  }
  const shortfall: Record<string, number> = {};
  for (const c of m.classes) if (perClassSelected[c]! < m.perClass) shortfall[c] = m.perClass - perClassSelected[c]!;
  const ranked = [...m.selections].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : b.confidence - a.confidence || a.imageId - b.imageId));
  return writeTx(db, () => {
    const info = db
      .prepare(
        `INSERT INTO minings (dataset_id, teacher_id, per_class, min_confidence, selected, per_class_selected_json, shortfall_json, excluded_duplicates, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        m.datasetId,
        m.teacherId,
        m.perClass,
        m.minConfidence,
        m.selections.length,
        JSON.stringify(perClassSelected),
        JSON.stringify(shortfall),
        m.excludedDuplicates ?? 0,
        nowIso(),
      );
    const id = Number(info.lastInsertRowid);
    const stmt = db.prepare('INSERT INTO mining_selections (mining_id, image_id, label, confidence, rank) VALUES (?, ?, ?, ?, ?)');
    let prev = '';
    let rank = 0;
    for (const s of ranked) {
      rank = s.label === prev ? rank + 1 : 0;
      prev = s.label;
      stmt.run(id, s.imageId, s.label, s.confidence, rank);
    }
    return getMining(db, id)!;
  });
}

export function getMining(db: Db, id: number): MiningRecord | null {
  const row = db.prepare('SELECT * FROM minings WHERE id = ?').get(id) as MiningRow | undefined;
  return row ? toRecord(row) : null;
}

export function listMinings(db: Db, datasetRef?: IdOrName): MiningRecord[] {
  const rows =
    datasetRef === undefined
      ? (db.prepare('SELECT * FROM minings ORDER BY id').all() as MiningRow[])
      : (db.prepare('SELECT * FROM minings WHERE dataset_id = ? ORDER BY id').all(requireId(db, 'datasets', datasetRef)) as MiningRow[]);
  return rows.map(toRecord);
}

/** The newest mining of a dataset (by one teacher when given). */
export function latestMining(db: Db, datasetId: number, teacherId?: number): MiningRecord | null {
  const row = (
    teacherId === undefined
      ? db.prepare('SELECT * FROM minings WHERE dataset_id = ? ORDER BY id DESC LIMIT 1').get(datasetId)
      : db.prepare('SELECT * FROM minings WHERE dataset_id = ? AND teacher_id = ? ORDER BY id DESC LIMIT 1').get(datasetId, teacherId)
  ) as MiningRow | undefined;
  return row ? toRecord(row) : null;
}

export interface MiningSelectionRow extends MiningSelection {
  path: string;
  rank: number;
}

/** The selected images, by class then rank. */
export function getMiningSelections(db: Db, miningId: number): MiningSelectionRow[] {
  return db
    .prepare(
      `SELECT s.image_id AS imageId, i.path, s.label, s.confidence, s.rank
       FROM mining_selections s JOIN images i ON i.id = s.image_id
       WHERE s.mining_id = ? ORDER BY s.label, s.rank`,
    )
    .all(miningId) as MiningSelectionRow[];
}

export function removeMining(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM minings WHERE id = ?').run(id).changes > 0;
}
