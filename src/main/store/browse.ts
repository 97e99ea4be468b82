// The Browser's query: a dataset's images with the teacher's label and confidence, mined or not, and a
// run's predictions for confusion-matrix drill-down. Filtering, sorting and paging happen in SQL so a
// 25,000-image dataset is never loaded whole.
import { z } from 'zod';
import { ImageQuery as ImageQuerySchema, type ImageRow } from '../../shared/api.js';
import type { Db } from './db.js';
import { datasetClasses } from './datasets.js';
import { requireId, type IdOrName } from './lookup.js';
import { latestMining } from './minings.js';
import { decodeProbs } from './probs.js';

export type ImageQueryInput = z.input<typeof ImageQuerySchema> & {
  /** Whose labels and confidences to show; default: the newest mining's teacher, else the newest teacher with predictions here. */
  teacher?: IdOrName;
  /** Which mining "mined" refers to; default the newest one of the dataset (for that teacher). */
  mining?: number;
  /** Default 'ok' (usable images); 'all' also lists skipped, duplicate and missing files. */
  status?: 'ok' | 'skipped' | 'duplicate' | 'missing' | 'all';
};

/** Which teacher's predictions the Browser shows for a dataset when none is asked for. */
export function defaultTeacherId(db: Db, datasetId: number): number | null {
  const mining = latestMining(db, datasetId);
  if (mining) return mining.teacherId;
  const row = db
    .prepare(
      `SELECT tp.teacher_id AS id FROM teacher_predictions tp JOIN images i ON i.id = tp.image_id
       WHERE i.dataset_id = ? ORDER BY tp.teacher_id DESC LIMIT 1`,
    )
    .get(datasetId) as { id: number } | undefined;
  return row?.id ?? null;
}

interface Row {
  id: number;
  path: string;
  role: ImageRow['role'];
  label: string | null;
  teacherLabel: string | null;
  teacherConfidence: number | null;
  mined: number;
  predictedLabel: string | null;
  predictedConfidence: number | null;
}

export function queryImages(db: Db, input: ImageQueryInput): { total: number; items: ImageRow[] } {
  const q = ImageQuerySchema.parse(input);
  const datasetId = requireId(db, 'datasets', q.dataset);
  const teacherId = input.teacher !== undefined ? requireId(db, 'teachers', input.teacher) : defaultTeacherId(db, datasetId);
  const miningId = input.mining ?? latestMining(db, datasetId, teacherId ?? undefined)?.id ?? null;
  const runId = q.run !== undefined ? requireId(db, 'runs', q.run) : null;
  const status = input.status ?? 'ok';

  const params: Record<string, string | number | null> = { ds: datasetId, teacher: teacherId, mining: miningId, run: runId };
  const where = ['i.dataset_id = @ds'];
  const add = (clause: string, key?: string, value?: string | number): void => {
    where.push(clause);
    if (key !== undefined) params[key] = value ?? null;
  };
  if (status !== 'all') add('i.status = @status', 'status', status);
  if (q.role) add('i.role = @role', 'role', q.role);
  if (q.label !== undefined) add('i.label = @label', 'label', q.label);
  if (q.trueLabel !== undefined) add('i.label = @trueLabel', 'trueLabel', q.trueLabel);
  if (q.teacherLabel !== undefined) add('tp.label = @teacherLabel', 'teacherLabel', q.teacherLabel);
  const conf = runId !== null ? 'rp.confidence' : 'tp.confidence';
  if (q.confidenceMin !== undefined) add(`${conf} >= @cmin`, 'cmin', q.confidenceMin);
  if (q.confidenceMax !== undefined) add(`${conf} <= @cmax`, 'cmax', q.confidenceMax);
  if (q.mined !== undefined) add(q.mined ? 'ms.image_id IS NOT NULL' : 'ms.image_id IS NULL');
  if (runId !== null) {
    if (q.predictedLabel !== undefined) add('rp.label = @predicted', 'predicted', q.predictedLabel);
    if (q.mistakesOnly) add('i.label IS NOT NULL AND rp.label != i.label');
  }

  const from = `FROM images i
    LEFT JOIN teacher_predictions tp ON tp.image_id = i.id AND tp.teacher_id = @teacher
    LEFT JOIN mining_selections ms ON ms.image_id = i.id AND ms.mining_id = @mining
    ${runId !== null ? 'JOIN run_predictions rp ON rp.image_id = i.id AND rp.run_id = @run AND rp.model = 0' : ''}
    WHERE ${where.join(' AND ')}`;

  let order = 'i.path';
  const sort = q.mistakesOnly && q.sort === 'path' ? 'confidence-desc' : q.sort;
  if (sort === 'confidence-desc') order = `${conf} IS NULL, ${conf} DESC, i.path`;
  if (sort === 'confidence-asc') order = `${conf} IS NULL, ${conf} ASC, i.path`;

  const total = (db.prepare(`SELECT COUNT(*) AS n ${from}`).get(params) as { n: number }).n;
  const rows = db
    .prepare(
      `SELECT i.id, i.path, i.role, i.label, tp.label AS teacherLabel, tp.confidence AS teacherConfidence,
              ms.image_id IS NOT NULL AS mined,
              ${runId !== null ? 'rp.label' : 'NULL'} AS predictedLabel, ${runId !== null ? 'rp.confidence' : 'NULL'} AS predictedConfidence
       ${from} ORDER BY ${order} LIMIT @limit OFFSET @offset`,
    )
    .all({ ...params, limit: q.limit, offset: q.offset }) as Row[];
  return { total, items: rows.map((r) => toImageRow(r, runId !== null)) };
}

function toImageRow(r: Row, withRun: boolean): ImageRow {
  const row: ImageRow = {
    id: r.id,
    path: r.path,
    role: r.role,
    label: r.label,
    teacherLabel: r.teacherLabel,
    teacherConfidence: r.teacherConfidence,
    mined: r.mined === 1,
  };
  if (withRun) {
    row.predictedLabel = r.predictedLabel;
    row.predictedConfidence = r.predictedConfidence;
  }
  return row;
}

/** One image as the Browser lists it (for the detail panel). */
export function imageRow(db: Db, imageId: number, teacher?: IdOrName): ImageRow | null {
  const img = db.prepare('SELECT dataset_id FROM images WHERE id = ?').get(imageId) as { dataset_id: number } | undefined;
  if (!img) return null;
  const teacherId = teacher !== undefined ? requireId(db, 'teachers', teacher) : defaultTeacherId(db, img.dataset_id);
  const miningId = latestMining(db, img.dataset_id, teacherId ?? undefined)?.id ?? null;
  const r = db
    .prepare(
      `SELECT i.id, i.path, i.role, i.label, tp.label AS teacherLabel, tp.confidence AS teacherConfidence,
              ms.image_id IS NOT NULL AS mined, NULL AS predictedLabel, NULL AS predictedConfidence
       FROM images i
       LEFT JOIN teacher_predictions tp ON tp.image_id = i.id AND tp.teacher_id = @teacher
       LEFT JOIN mining_selections ms ON ms.image_id = i.id AND ms.mining_id = @mining
       WHERE i.id = @id`,
    )
    .get({ id: imageId, teacher: teacherId, mining: miningId }) as Row;
  return toImageRow(r, false);
}

export interface ProbabilityBars {
  /** "teacher:NAME" or "run:NAME" ("run:NAME#k" for DML peer k). */
  source: string;
  classes: string[];
  probs: number[];
}

/** Every stored probability vector for an image: each teacher's, then each run's. */
export function imageProbabilities(db: Db, imageId: number): ProbabilityBars[] {
  const img = db.prepare('SELECT dataset_id FROM images WHERE id = ?').get(imageId) as { dataset_id: number } | undefined;
  if (!img) return [];
  const out: ProbabilityBars[] = [];
  const teacherRows = db
    .prepare(
      `SELECT t.name, t.classes_json, p.probs FROM teacher_predictions p JOIN teachers t ON t.id = p.teacher_id
       WHERE p.image_id = ? ORDER BY t.id`,
    )
    .all(imageId) as { name: string; classes_json: string; probs: Buffer }[];
  for (const r of teacherRows) {
    out.push({ source: `teacher:${r.name}`, classes: z.array(z.string()).parse(JSON.parse(r.classes_json)), probs: decodeProbs(r.probs) });
  }
  const runRows = db
    .prepare(
      `SELECT r.name, r.classes_json, p.model, p.probs FROM run_predictions p JOIN runs r ON r.id = p.run_id
       WHERE p.image_id = ? AND p.probs IS NOT NULL ORDER BY r.id, p.model`,
    )
    .all(imageId) as { name: string; classes_json: string | null; model: number; probs: Buffer }[];
  let fallback: string[] | null = null;
  for (const r of runRows) {
    const classes = r.classes_json ? z.array(z.string()).parse(JSON.parse(r.classes_json)) : (fallback ??= datasetClasses(db, img.dataset_id));
    out.push({ source: `run:${r.name}${r.model > 0 ? `#${r.model}` : ''}`, classes, probs: decodeProbs(r.probs) });
  }
  return out;
}
