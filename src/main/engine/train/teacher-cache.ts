// Teacher soft labels over stored crops (FKD style, design.md): each training image gets V fixed views
// (view v of item i = trainingView(seed, v, i)); the teacher runs once per (item, view) at its own
// input size, and training replays view (epoch mod V) with those probabilities as the target. The
// result is a file under <home>/cache/teacher-views keyed by everything that determines it, so every
// later run with the same teacher, images, seed and augmentation reuses it: the teacher's cost is
// paid once and shared. Entries unused for long are pruned after each write (teacher-cache-prune.ts).
//
// Stored: full softmax probabilities at τ=1, float32, row (i·V + v). Small classifiers have few
// classes (2 classes × 4 views = 32 bytes per image), so FKD's top-k fp16 would save little and lose
// precision; the loss softens them to any τ as p^(1/τ) renormalized (exact for a full softmax).
// For feature distillation the teacher's pooled features (the input of its Dense head) come from the
// same forward pass and are stored beside them as float16 (`<key>.feat.bin`, row i·V + v): feature
// vectors are long (hundreds of values) where fp16 halves the bytes at ≈0.05% relative error.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { TeacherRecord } from '../../../shared/domain.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { batches, trainingView, type AugmentOptions, type CropView, type ImageCache, type RenderPool } from '../data/index.js';
import { decodeFloat16, encodeFloat16 } from './float16.js';
import { pruneTeacherViews } from './teacher-cache-prune.js';
import type { Teacher, TrainItem } from './train-types.js';

/** FKD's point: a few fixed views per image are enough; beyond that the teacher's cost grows for little. */
export const MAX_VIEWS = 4;
const FORMAT = 1;

/** V = min(epochs, 4), at least 1. */
export function viewCount(epochs: number): number {
  return Math.max(1, Math.min(Math.floor(epochs), MAX_VIEWS));
}

/** The crop of item `index` in `epoch` when the teacher's outputs are cached: its view (epoch mod V). */
export function cachedView(seed: number, views: number, augment: AugmentOptions): (index: number, epoch: number) => CropView {
  return (index, epoch) => trainingView(seed, epoch % views, index, augment);
}

/**
 * Identity of a stored teacher's weights: its id, plus the newest mtime in its model folder, so a
 * teacher re-trained or re-imported under the same id never reuses the old soft labels.
 */
export function teacherIdentity(record: Pick<TeacherRecord, 'id' | 'name' | 'modelDir'>): string {
  let newest = fs.statSync(record.modelDir).mtimeMs;
  for (const name of fs.readdirSync(record.modelDir)) {
    const st = fs.statSync(path.join(record.modelDir, name));
    if (st.isFile()) newest = Math.max(newest, st.mtimeMs);
  }
  return `teacher:${record.id}:${record.name}:${newest}`;
}

export interface TeacherViewsSpec {
  /** Identity of the teacher's weights (teacherIdentity). */
  teacherId: string;
  teacherSize: number;
  /** The run's class order (the teacher's logits are reordered to it). */
  classes: readonly string[];
  /** Training items in order: row i belongs to items[i]. */
  items: readonly { key: string }[];
  views: number;
  seed: number;
  augment: AugmentOptions;
}

/** A hash of everything the cached probabilities depend on. */
export function teacherViewsKey(s: TeacherViewsSpec): string {
  const h = crypto.createHash('sha256');
  h.update(
    JSON.stringify({
      format: FORMAT,
      teacher: s.teacherId,
      size: s.teacherSize,
      classes: s.classes,
      views: s.views,
      seed: s.seed,
      // Explicit defaults: an option left out and the same option spelled out give the same crops.
      augment: {
        flip: s.augment.flip,
        cropScaleMin: s.augment.cropScaleMin,
        aspectMin: s.augment.aspectMin ?? 3 / 4,
        aspectMax: s.augment.aspectMax ?? 4 / 3,
      },
      n: s.items.length,
    }),
  );
  for (const it of s.items) h.update(`\n${it.key}`);
  return h.digest('hex').slice(0, 32);
}

const Meta = z.object({
  format: z.literal(FORMAT),
  key: z.string(),
  teacherId: z.string(),
  n: z.number().int().min(0),
  views: z.number().int().min(1),
  classes: z.number().int().min(1),
  teacherSize: z.number().int().min(1),
  seed: z.number().int(),
  /** Length of the stored feature rows (`<key>.feat.bin`), when features were computed. */
  featureDim: z.number().int().min(1).optional(),
  /** (item, view) rows whose image could not be decoded: no target stored. */
  missing: z.array(z.number().int().min(0)),
  createdAt: z.string(),
});
type Meta = z.infer<typeof Meta>;

/** The teacher's probabilities for every (item, view). */
export class TeacherViews {
  private readonly missingRows: ReadonlySet<number>;

  constructor(
    readonly key: string,
    readonly n: number,
    readonly views: number,
    readonly classes: number,
    /** Row-major [n·views, classes], row i·views + v. */
    readonly probs: Float32Array,
    missing: readonly number[],
    /** Where it came from this time: computed now, or read from the file. */
    readonly source: 'computed' | 'file',
    /** The teacher's pooled features as float16 bits, [n·views, dim]; absent unless asked for. */
    readonly features: { dim: number; data: Uint16Array } | null = null,
  ) {
    if (probs.length !== n * views * classes) throw new Error(`teacher views: expected ${n * views * classes} values, got ${probs.length}`);
    if (features && features.data.length !== n * views * features.dim) {
      throw new Error(`teacher views: expected ${n * views * features.dim} feature values, got ${features.data.length}`);
    }
    this.missingRows = new Set(missing);
  }

  get missing(): number[] {
    return [...this.missingRows];
  }

  /**
   * The targets of items `indices` in `epoch` (view epoch mod V), [indices.length, classes]; null if
   * any of them has none (its image failed to decode when the teacher ran).
   */
  rows(indices: readonly number[], epoch: number): Float32Array | null {
    const v = epoch % this.views;
    const C = this.classes;
    const out = new Float32Array(indices.length * C);
    for (let r = 0; r < indices.length; r++) {
      const row = indices[r]! * this.views + v;
      if (this.missingRows.has(row)) return null;
      out.set(this.probs.subarray(row * C, (row + 1) * C), r * C);
    }
    return out;
  }

  /** The teacher's features of items `indices` in `epoch`, [indices.length, dim] as float32; null like rows(). */
  featureRows(indices: readonly number[], epoch: number): Float32Array | null {
    if (!this.features) return null;
    const { dim, data } = this.features;
    const v = epoch % this.views;
    const out = new Float32Array(indices.length * dim);
    for (let r = 0; r < indices.length; r++) {
      const row = indices[r]! * this.views + v;
      if (this.missingRows.has(row)) return null;
      decodeFloat16(data.subarray(row * dim, (row + 1) * dim), out, r * dim);
    }
    return out;
  }
}

export interface EnsureTeacherViewsOptions extends Omit<TeacherViewsSpec, 'teacherSize'> {
  /** Runs at its own input size (part of the key). */
  teacher: Teacher;
  items: readonly TrainItem[];
  /** Folder of the cache files (<home>/cache/teacher-views); null computes without persisting. */
  dir: string | null;
  batchSize: number;
  onProgress?: (done: number, total: number) => void;
  /** Also compute and store the teacher's pooled features (needs teacher.logitsAndFeatures). */
  features?: boolean;
  /** Awaited between teacher batches (pause / cancel). */
  between?: () => Promise<void>;
  cache?: ImageCache;
  renderer?: RenderPool | null;
}

function filesOf(dir: string, key: string): { bin: string; json: string; feat: string } {
  return { bin: path.join(dir, `${key}.bin`), json: path.join(dir, `${key}.json`), feat: path.join(dir, `${key}.feat.bin`) };
}

function readCached(dir: string, key: string, n: number, views: number, classes: number, featureDim: number | null): TeacherViews | null {
  const f = filesOf(dir, key);
  let meta: Meta;
  try {
    meta = Meta.parse(JSON.parse(fs.readFileSync(f.json, 'utf8')));
  } catch {
    return null; // absent or unreadable: computed again and rewritten
  }
  if (meta.key !== key || meta.n !== n || meta.views !== views || meta.classes !== classes) return null;
  let buf: Buffer;
  try {
    buf = fs.readFileSync(f.bin);
  } catch {
    return null;
  }
  if (buf.byteLength !== n * views * classes * 4) return null;
  let features: TeacherViews['features'] = null;
  if (featureDim !== null) {
    // Asked for features this entry lacks (or of another size): computed again with them.
    if (meta.featureDim !== featureDim) return null;
    let fbuf: Buffer;
    try {
      fbuf = fs.readFileSync(f.feat);
    } catch {
      return null;
    }
    if (fbuf.byteLength !== n * views * featureDim * 2) return null;
    features = { dim: featureDim, data: new Uint16Array(fbuf.buffer.slice(fbuf.byteOffset, fbuf.byteOffset + fbuf.byteLength)) };
  }
  // Copied into its own buffer: a Buffer's offset need not be 4-aligned.
  const probs = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  markUsed(f);
  return new TeacherViews(key, n, views, classes, probs, meta.missing, 'file', features);
}

/**
 * Touches a hit's files so pruning sees it as recently used: atime alone is unreliable (noatime and
 * relatime mounts). Best effort: a read-only cache still serves the hit.
 */
function markUsed(f: { bin: string; json: string }): void {
  const now = new Date();
  try {
    fs.utimesSync(f.bin, now, now);
    fs.utimesSync(f.json, now, now);
  } catch {
    // not writable: only the pruning order suffers
  }
}

/** The teacher's soft labels for every (item, view): from the cache file when it exists, else computed (and stored). */
export async function ensureTeacherViews(o: EnsureTeacherViewsOptions): Promise<TeacherViews> {
  const { teacher, items, views: V } = o;
  const n = items.length;
  const C = o.classes.length;
  if (teacher.classes !== C) throw new Error(`teacher "${teacher.name}" predicts ${teacher.classes} classes, the run has ${C}`);
  const key = teacherViewsKey({ ...o, teacherSize: teacher.inputSize });
  const withFeatures = o.features ? teacher.logitsAndFeatures : undefined;
  const D = teacher.featureDim ?? 0;
  if (o.features && (!withFeatures || D < 1)) throw new Error(`teacher "${teacher.name}" exposes no pooled features (a TF.js layers model with a Dense head is needed)`);
  if (o.dir) {
    const hit = readCached(o.dir, key, n, V, C, withFeatures ? D : null);
    if (hit) {
      o.onProgress?.(n * V, n * V);
      return hit;
    }
  }

  const probs = new Float32Array(n * V * C);
  const feats = withFeatures ? new Uint16Array(n * V * D) : null;
  const missing: number[] = [];
  const total = n * V;
  let done = 0;
  o.onProgress?.(0, total);
  for (let v = 0; v < V; v++) {
    for await (const b of batches({
      items,
      size: teacher.inputSize,
      batchSize: o.batchSize,
      seed: o.seed,
      epoch: v,
      shuffle: false,
      augment: o.augment,
      view: (i) => trainingView(o.seed, v, i, o.augment),
      onDecodeError: 'skip',
      cache: o.cache,
      renderer: o.renderer,
    })) {
      await o.between?.();
      for (const f of b.failed) missing.push(f.index * V + v);
      if (b.indices.length > 0) {
        const { out, featOut } = tf.tidy(() => {
          const x = tf.tensor4d(b.x, b.shape);
          if (!withFeatures) return { out: tf.softmax(teacher.logits(x)) };
          const r = withFeatures(x);
          return { out: tf.softmax(r.logits), featOut: r.features };
        }) as { out: tf.Tensor; featOut?: tf.Tensor };
        const data = (await out.data()) as Float32Array;
        out.dispose();
        b.indices.forEach((i, r) => probs.set(data.subarray(r * C, (r + 1) * C), (i * V + v) * C));
        if (featOut && feats) {
          const fd = (await featOut.data()) as Float32Array;
          featOut.dispose();
          b.indices.forEach((i, r) => encodeFloat16(fd.subarray(r * D, (r + 1) * D), feats, (i * V + v) * D));
        }
      }
      done += b.indices.length + b.failed.length;
      o.onProgress?.(done, total);
    }
  }

  if (o.dir) {
    const f = filesOf(o.dir, key);
    // Data first, then the meta: a meta file only ever describes a complete data file.
    writeFileAtomic(f.bin, new Uint8Array(probs.buffer, probs.byteOffset, probs.byteLength));
    if (feats) writeFileAtomic(f.feat, new Uint8Array(feats.buffer, feats.byteOffset, feats.byteLength));
    const meta: Meta = {
      format: FORMAT,
      key,
      teacherId: o.teacherId,
      n,
      views: V,
      classes: C,
      teacherSize: teacher.inputSize,
      seed: o.seed,
      ...(feats && { featureDim: D }),
      missing,
      createdAt: new Date().toISOString(),
    };
    writeFileAtomic(f.json, JSON.stringify(meta));
    try {
      pruneTeacherViews(o.dir, { keep: key });
    } catch {
      // Housekeeping only: the labels are computed and stored, so the run goes on; the next write retries.
    }
  }
  return new TeacherViews(key, n, V, C, probs, missing, 'computed', feats && { dim: D, data: feats });
}
