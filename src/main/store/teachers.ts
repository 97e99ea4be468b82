// Teachers (trained or imported, frozen) and their cached predictions on dataset images.
import { z } from 'zod';
import { TeacherRecord } from '../../shared/domain.js';
import { nowIso, writeTx, type Db } from './db.js';
import { findId, requireId, type IdOrName } from './lookup.js';
import { argmax, decodeProbs, encodeProbs } from './probs.js';

interface TeacherRow {
  id: number;
  name: string;
  kind: string;
  arch: string;
  input_size: number;
  classes_json: string;
  dataset_id: number | null;
  val_accuracy: number | null;
  per_class_json: string | null;
  model_dir: string;
  created_at: string;
}

const Classes = z.array(z.string());
const PerClass = z.record(z.string(), z.number()).nullable();

function toRecord(r: TeacherRow): TeacherRecord {
  return TeacherRecord.parse({
    id: r.id,
    name: r.name,
    kind: r.kind,
    arch: r.arch,
    inputSize: r.input_size,
    classes: Classes.parse(JSON.parse(r.classes_json)),
    datasetId: r.dataset_id,
    valAccuracy: r.val_accuracy,
    modelDir: r.model_dir,
    createdAt: r.created_at,
    perClass: r.per_class_json === null ? null : PerClass.parse(JSON.parse(r.per_class_json)),
  });
}

export type NewTeacher = Omit<TeacherRecord, 'id' | 'createdAt'>;

export function createTeacher(db: Db, t: NewTeacher): TeacherRecord {
  const v = TeacherRecord.omit({ id: true, createdAt: true }).parse(t);
  if (db.prepare('SELECT 1 FROM teachers WHERE name = ?').get(v.name)) throw new Error(`teacher "${v.name}" already exists`);
  const info = db
    .prepare(
      `INSERT INTO teachers (name, kind, arch, input_size, classes_json, dataset_id, val_accuracy, per_class_json, model_dir, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      v.name,
      v.kind,
      v.arch,
      v.inputSize,
      JSON.stringify(v.classes),
      v.datasetId,
      v.valAccuracy,
      v.perClass === null ? null : JSON.stringify(v.perClass),
      v.modelDir,
      nowIso(),
    );
  return getTeacher(db, Number(info.lastInsertRowid))!;
}

export function findTeacherId(db: Db, ref: IdOrName): number | null {
  return findId(db, 'teachers', ref);
}

export function getTeacher(db: Db, ref: IdOrName): TeacherRecord | null {
  const id = findId(db, 'teachers', ref);
  if (id === null) return null;
  return toRecord(db.prepare('SELECT * FROM teachers WHERE id = ?').get(id) as TeacherRow);
}

export function requireTeacher(db: Db, ref: IdOrName): TeacherRecord {
  return getTeacher(db, requireId(db, 'teachers', ref))!;
}

export function listTeachers(db: Db): TeacherRecord[] {
  return (db.prepare('SELECT * FROM teachers ORDER BY id').all() as TeacherRow[]).map(toRecord);
}

export type TeacherPatch = Partial<Pick<TeacherRecord, 'valAccuracy' | 'perClass' | 'modelDir' | 'datasetId'>>;

export function updateTeacher(db: Db, ref: IdOrName, patch: TeacherPatch): TeacherRecord {
  const id = requireId(db, 'teachers', ref);
  const sets: string[] = [];
  const vals: (string | number | null)[] = [];
  const set = (column: string, value: string | number | null): void => {
    sets.push(`${column} = ?`);
    vals.push(value);
  };
  if (patch.valAccuracy !== undefined) set('val_accuracy', patch.valAccuracy);
  if (patch.perClass !== undefined) set('per_class_json', patch.perClass === null ? null : JSON.stringify(PerClass.parse(patch.perClass)));
  if (patch.modelDir !== undefined) set('model_dir', patch.modelDir);
  if (patch.datasetId !== undefined) set('dataset_id', patch.datasetId);
  if (sets.length > 0) db.prepare(`UPDATE teachers SET ${sets.join(', ')} WHERE id = ?`).run(...vals, id);
  return getTeacher(db, id)!;
}

export function removeTeacher(db: Db, ref: IdOrName): boolean {
  const id = findId(db, 'teachers', ref);
  return id !== null && db.prepare('DELETE FROM teachers WHERE id = ?').run(id).changes > 0;
}

export interface TeacherPrediction {
  imageId: number;
  /** The teacher's class with the highest probability. */
  label: string;
  confidence: number;
  /** In the teacher's class order. */
  probs: number[];
}

/**
 * Stores (replacing) the teacher's probabilities for images, in one transaction. Label and confidence
 * are derived here from the teacher's class list so they can never disagree with the vector.
 */
export function saveTeacherPredictions(
  db: Db,
  teacherRef: IdOrName,
  rows: readonly { imageId: number; probs: ArrayLike<number> }[],
): number {
  const teacher = requireTeacher(db, teacherRef);
  const stmt = db.prepare(
    `INSERT OR REPLACE INTO teacher_predictions (teacher_id, image_id, label, confidence, probs, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const now = nowIso();
  return writeTx(db, () => {
    for (const r of rows) {
      if (r.probs.length !== teacher.classes.length) {
        throw new Error(`teacher "${teacher.name}" has ${teacher.classes.length} classes, got ${r.probs.length} probabilities for image ${r.imageId}`);
      }
      const k = argmax(r.probs);
      stmt.run(teacher.id, r.imageId, teacher.classes[k]!, r.probs[k]!, encodeProbs(r.probs), now);
    }
    return rows.length;
  });
}

export interface TeacherPredictionQuery {
  /** Only images of this dataset (and role). */
  datasetId?: number;
  role?: 'labeled' | 'unlabeled' | 'val';
  imageIds?: readonly number[];
  /** Leave the probability vectors out (faster for large pools). */
  withProbs?: boolean;
}

interface PredRow {
  image_id: number;
  label: string;
  confidence: number;
  probs: Buffer | null;
}

export function getTeacherPredictions(db: Db, teacherRef: IdOrName, q: TeacherPredictionQuery = {}): TeacherPrediction[] {
  const teacherId = requireId(db, 'teachers', teacherRef);
  const withProbs = q.withProbs ?? true;
  const cols = `p.image_id, p.label, p.confidence, ${withProbs ? 'p.probs' : 'NULL AS probs'}`;
  const toPred = (r: PredRow): TeacherPrediction => ({ imageId: r.image_id, label: r.label, confidence: r.confidence, probs: decodeProbs(r.probs) });
  if (q.imageIds) {
    const stmt = db.prepare(`SELECT ${cols} FROM teacher_predictions p WHERE p.teacher_id = ? AND p.image_id = ?`);
    return q.imageIds.flatMap((id) => {
      const r = stmt.get(teacherId, id) as PredRow | undefined;
      return r ? [toPred(r)] : [];
    });
  }
  const where = ['p.teacher_id = @t'];
  if (q.datasetId !== undefined) where.push('i.dataset_id = @ds');
  if (q.role) where.push('i.role = @role');
  const rows = db
    .prepare(`SELECT ${cols} FROM teacher_predictions p JOIN images i ON i.id = p.image_id WHERE ${where.join(' AND ')} ORDER BY i.path`)
    .all({ t: teacherId, ds: q.datasetId, role: q.role }) as PredRow[];
  return rows.map(toPred);
}

/** Ids (of those asked) that have no stored prediction by this teacher: what the teacher still has to run on. */
export function imagesWithoutTeacherPrediction(db: Db, teacherRef: IdOrName, imageIds: readonly number[]): number[] {
  const teacherId = requireId(db, 'teachers', teacherRef);
  const stmt = db.prepare('SELECT 1 FROM teacher_predictions WHERE teacher_id = ? AND image_id = ?');
  return imageIds.filter((id) => !stmt.get(teacherId, id));
}
