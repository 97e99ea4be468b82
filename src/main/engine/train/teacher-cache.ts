// Teacher soft labels over stored crops (FKD style, design.md): each training image gets V fixed views
// (view v of an image = trainingView(seed, v, viewIndex(its content hash))); the teacher runs once per
// (image, view) at its own input size, and training replays view (epoch mod V) with those
// probabilities as the target. Entries are keyed per image content, view and teacher (a "bucket":
// teacher weights, size, classes, seed, augmentation), not by the run's image set: any run on the same
// images with the same teacher reuses them (a kd run after an ssld run on a superset computes nothing).
// Files under <home>/cache/teacher-views are segments (one per computing run); entries unused for long
// are pruned after each write (teacher-cache-prune.ts).
//
// Stored: full softmax probabilities at τ=1, float32. Small classifiers have few classes (2 classes ×
// 4 views = 32 bytes per image), so FKD's top-k fp16 would save little and lose precision; the loss
// softens them to any τ as p^(1/τ) renormalized (exact for a full softmax).
// Feature distillation (pooled features) adds the teacher's feature vector per (image, view), float16
// (`<segment>.f16`, 2·D bytes: 1.5 KiB for D = 768), in buckets of their own: the teacher then runs
// once per view for the whole run instead of at every step. Kept as float16 bits in memory too, and
// rounded so whether computed now or read back a run sees the same values.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { TeacherRecord } from '../../../shared/domain.js';
import { DEFAULT_TEACHER_VIEWS } from '../../../shared/run-config.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { batches, trainingView, type AugmentOptions, type CropView, type ImageCache, type RenderPool } from '../data/index.js';
import { pruneTeacherViews } from './teacher-cache-prune.js';
import type { Teacher, TrainItem } from './train-types.js';
import { predictorLogits } from '../predict.js';
import { float16BitsToFloat32, toFloat16Bits } from '../data/float16.js';
import type { TapWant } from '../models/feature-tap.js';

const FORMAT = 2;

/**
 * V = the views asked for, else FKD's few (DEFAULT_TEACHER_VIEWS); never more than the epochs that
 * would show them, at least 1. A long run memorizes a few views (train JS falls far below val JS), so a
 * run given time for more sets `teacherViews` (the recipe does).
 */
export function viewCount(epochs: number, requested?: number): number {
  return Math.max(1, Math.min(Math.floor(epochs), requested ?? DEFAULT_TEACHER_VIEWS));
}

/** The crop stream of an image follows its content, not its position in a run's list (so runs share views). */
export function viewIndex(key: string): number {
  return crypto.createHash('sha1').update(key).digest().readUInt32LE(0) >>> 1;
}

/** The crop of item `index` in `epoch` when the teacher's outputs are cached: its view (epoch mod V). */
export function cachedView(
  seed: number,
  views: number,
  augment: AugmentOptions,
  items: readonly { key: string }[],
): (index: number, epoch: number) => CropView {
  const idx = items.map((it) => viewIndex(it.key));
  return (index, epoch) => trainingView(seed, epoch % views, idx[index]!, augment);
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
  /** Also cache the teacher's pooled features (read from `layer`, or its default), `dim` values per view. */
  features?: { layer: string | null; dim: number };
}

/** The bucket: a hash of everything an image's cached probabilities depend on besides the image and view. */
export function teacherViewsKey(s: Omit<TeacherViewsSpec, 'items' | 'views'>): string {
  const h = crypto.createHash('sha256');
  h.update(
    JSON.stringify({
      // Only buckets with features name them: soft-label buckets keep their keys.
      ...(s.features && { features: { layer: s.features.layer, dim: s.features.dim } }),
      format: FORMAT,
      teacher: s.teacherId,
      size: s.teacherSize,
      classes: s.classes,
      seed: s.seed,
      // Explicit defaults: an option left out and the same option spelled out give the same crops.
      augment: {
        flip: s.augment.flip,
        cropScaleMin: s.augment.cropScaleMin,
        aspectMin: s.augment.aspectMin ?? 3 / 4,
        aspectMax: s.augment.aspectMax ?? 4 / 3,
      },
    }),
  );
  return h.digest('hex').slice(0, 32);
}

/** One segment: the views it holds of each image, row (k·viewList.length + j) = image keys[k], view viewList[j]. */
const Meta = z.object({
  format: z.literal(FORMAT),
  bucket: z.string(),
  teacherId: z.string(),
  classes: z.number().int().min(1),
  teacherSize: z.number().int().min(1),
  seed: z.number().int(),
  keys: z.array(z.string()),
  viewList: z.array(z.number().int().min(0)),
  /** Pooled features per row in `<segment>.f16` (feature buckets only). */
  featureDim: z.number().int().min(1).optional(),
  createdAt: z.string(),
});
type Meta = z.infer<typeof Meta>;

/** Every float16 bit pattern as a float32: decoding a batch's features is one lookup per value. */
const HALF_TO_FLOAT = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = float16BitsToFloat32(h);
  return t;
})();

/** The teacher's probabilities (and optionally pooled features) for every (item, view). */
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
    /** Where it came from this time: all computed now, all read from files, or both. */
    readonly source: 'computed' | 'file' | 'mixed',
    /** (item, view) rows the teacher computed this time (0: everything came from the cache). */
    readonly computedRows = 0,
    /** The teacher's pooled features as float16 bits, row-major [n·views, featureDim], or null. */
    readonly features: Uint16Array | null = null,
    readonly featureDim = 0,
  ) {
    if (probs.length !== n * views * classes) throw new Error(`teacher views: expected ${n * views * classes} values, got ${probs.length}`);
    if (features && features.length !== n * views * featureDim) throw new Error(`teacher views: expected ${n * views * featureDim} feature values, got ${features.length}`);
    this.missingRows = new Set(missing);
  }

  /** The teacher's pooled features of items `indices` in `epoch`, [indices.length, featureDim]; null as for rows(). */
  featureRows(indices: readonly number[], epoch: number): Float32Array | null {
    if (!this.features) return null;
    const v = epoch % this.views;
    const D = this.featureDim;
    const out = new Float32Array(indices.length * D);
    for (let r = 0; r < indices.length; r++) {
      const row = indices[r]! * this.views + v;
      if (this.missingRows.has(row)) return null;
      for (let d = 0, src = row * D; d < D; d++) out[r * D + d] = HALF_TO_FLOAT[this.features[src + d]!]!;
    }
    return out;
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
}

export interface EnsureTeacherViewsOptions extends Omit<TeacherViewsSpec, 'teacherSize'> {
  /** Runs at its own input size (part of the key). */
  teacher: Teacher;
  items: readonly TrainItem[];
  /** Folder of the cache files (<home>/cache/teacher-views); null computes without persisting. */
  dir: string | null;
  batchSize: number;
  onProgress?: (done: number, total: number) => void;
  /** Awaited between teacher batches (pause / cancel). */
  between?: () => Promise<void>;
  cache?: ImageCache;
  renderer?: RenderPool | null;
}

function filesOf(dir: string, segment: string): { bin: string; json: string; f16: string } {
  return { bin: path.join(dir, `${segment}.bin`), json: path.join(dir, `${segment}.json`), f16: path.join(dir, `${segment}.f16`) };
}

/** Where found rows go: probabilities [rows, C], and float16 feature bits [rows, D] for a feature bucket. */
interface Found {
  probs: Float32Array;
  features: Uint16Array | null;
  featureDim: number;
}

/**
 * Fills `probs` rows (item i, view v) found in the bucket's segments; returns the rows found. A
 * segment that cannot be read is skipped (its rows are computed again).
 */
function readCached(dir: string, bucket: string, rowsOf: Map<string, number[]>, V: number, C: number, into: Found): Set<number> {
  const { probs, features, featureDim: D } = into;
  const found = new Set<number>();
  let names: string[];
  try {
    // A segment's name starts with its bucket: other buckets' files are never opened (a read would
    // refresh their atime and keep them from being pruned).
    names = fs.readdirSync(dir).filter((n) => n.startsWith(bucket) && /^[0-9a-f]+\.json$/.test(n));
  } catch {
    return found;
  }
  for (const name of names) {
    const f = filesOf(dir, name.slice(0, -5));
    let meta: Meta;
    try {
      meta = Meta.parse(JSON.parse(fs.readFileSync(f.json, 'utf8')));
    } catch {
      continue; // another format or unreadable
    }
    if (meta.bucket !== bucket || meta.classes !== C) continue;
    const useful = meta.keys.some((k) => rowsOf.has(k));
    if (!useful) continue;
    let buf: Buffer;
    try {
      buf = fs.readFileSync(f.bin);
    } catch {
      continue;
    }
    const J = meta.viewList.length;
    if (buf.byteLength !== meta.keys.length * J * C * 4) continue;
    let half: Uint16Array | null = null;
    if (features) {
      if (meta.featureDim !== D) continue;
      try {
        const fb = fs.readFileSync(f.f16);
        if (fb.byteLength !== meta.keys.length * J * D * 2) continue;
        half = new Uint16Array(fb.buffer.slice(fb.byteOffset, fb.byteOffset + fb.byteLength));
      } catch {
        continue;
      }
    }
    // Copied into its own buffer: a Buffer's offset need not be 4-aligned.
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    meta.keys.forEach((k, ki) => {
      const items = rowsOf.get(k);
      if (!items) return;
      meta.viewList.forEach((v, j) => {
        if (v >= V) return;
        const src = data.subarray((ki * J + j) * C, (ki * J + j + 1) * C);
        const fsrc = half?.subarray((ki * J + j) * D, (ki * J + j + 1) * D);
        for (const i of items) {
          probs.set(src, (i * V + v) * C);
          if (fsrc) features!.set(fsrc, (i * V + v) * D);
          found.add(i * V + v);
        }
      });
    });
    markUsed(f);
  }
  return found;
}

/**
 * Touches a hit's files so pruning sees it as recently used: atime alone is unreliable (noatime and
 * relatime mounts). Best effort: a read-only cache still serves the hit.
 */
function markUsed(f: { bin: string; json: string; f16: string }): void {
  const now = new Date();
  try {
    fs.utimesSync(f.bin, now, now);
    fs.utimesSync(f.json, now, now);
    if (fs.existsSync(f.f16)) fs.utimesSync(f.f16, now, now);
  } catch {
    // not writable: only the pruning order suffers
  }
}

async function softmaxOfHost(teacher: Teacher, x: Float32Array, n: number): Promise<tf.Tensor> {
  const logits = await predictorLogits(teacher, x, n);
  const out = tf.softmax(logits);
  logits.dispose();
  return out;
}

/** The teacher's soft labels for every (item, view): from the cache where an image's view is there, else computed (and stored). */
export async function ensureTeacherViews(o: EnsureTeacherViewsOptions): Promise<TeacherViews> {
  const { teacher, items, views: V } = o;
  const n = items.length;
  const C = o.classes.length;
  if (teacher.classes !== C) throw new Error(`teacher "${teacher.name}" predicts ${teacher.classes} classes, the run has ${C}`);
  const bucket = teacherViewsKey({ ...o, teacherSize: teacher.inputSize });
  const rowsOf = new Map<string, number[]>();
  items.forEach((it, i) => {
    const list = rowsOf.get(it.key);
    if (list) list.push(i);
    else rowsOf.set(it.key, [i]);
  });
  const D = o.features?.dim ?? 0;
  if (o.features && !teacher.tapped && !teacher.hostTapped) throw new Error(`teacher "${teacher.name}" exposes no features to cache`);
  const into: Found = { probs: new Float32Array(n * V * C), features: o.features ? new Uint16Array(n * V * D) : null, featureDim: D };
  const { probs, features } = into;
  const want: TapWant | null = o.features ? { pooled: true, map: false, ...(o.features.layer !== null && { layer: o.features.layer }) } : null;
  const found = o.dir ? readCached(o.dir, bucket, rowsOf, V, C, into) : new Set<number>();

  // What is left, per view: one teacher pass per distinct image (copies share the row).
  const todo: { key: string; path: string; label: null; rows: number[] }[][] = [];
  let total = 0;
  for (let v = 0; v < V; v++) {
    const list: { key: string; path: string; label: null; rows: number[] }[] = [];
    for (const [key, rows] of rowsOf) if (!found.has(rows[0]! * V + v)) list.push({ key, path: items[rows[0]!]!.path, label: null, rows });
    todo.push(list);
    total += list.length;
  }
  const missing: number[] = [];
  let done = 0;
  o.onProgress?.(0, total);
  const computed = new Map<string, Map<number, { probs: Float32Array; features: Uint16Array | null }>>();
  for (let v = 0; v < V; v++) {
    const list = todo[v]!;
    if (list.length === 0) continue;
    const idx = list.map((it) => viewIndex(it.key));
    for await (const b of batches({
      items: list,
      size: teacher.inputSize,
      batchSize: o.batchSize,
      seed: o.seed,
      epoch: v,
      shuffle: false,
      augment: o.augment,
      view: (i) => trainingView(o.seed, v, idx[i]!, o.augment),
      onDecodeError: 'skip',
      cache: o.cache,
      renderer: o.renderer,
    })) {
      await o.between?.();
      for (const f of b.failed) for (const i of list[f.index]!.rows) missing.push(i * V + v);
      if (b.indices.length > 0) {
        const { data, feats } = await teacherOutputs(teacher, b.x, b.shape, b.indices.length, want, D);
        b.indices.forEach((li, r) => {
          const row = data.slice(r * C, (r + 1) * C);
          const frow = feats ? feats.slice(r * D, (r + 1) * D) : null;
          const it = list[li]!;
          for (const i of it.rows) {
            probs.set(row, (i * V + v) * C);
            if (frow) features!.set(frow, (i * V + v) * D);
          }
          let m = computed.get(it.key);
          if (!m) computed.set(it.key, (m = new Map()));
          m.set(v, { probs: row, features: frow });
        });
      }
      done += b.indices.length + b.failed.length;
      o.onProgress?.(done, total);
    }
  }

  if (o.dir && computed.size > 0) writeSegment(o.dir, bucket, o, teacher.inputSize, C, D, computed);
  const computedRows = [...computed.values()].reduce((a, m) => a + m.size, 0);
  const source = computedRows === 0 ? 'file' : found.size === 0 ? 'computed' : 'mixed';
  return new TeacherViews(bucket, n, V, C, probs, missing, source, computedRows, features, D);
}

/** One batch through the teacher: softmax rows, and with `want` its pooled features as float16 bits. */
async function teacherOutputs(
  teacher: Teacher,
  x: Float32Array,
  shape: [number, number, number, number],
  n: number,
  want: TapWant | null,
  D: number,
): Promise<{ data: Float32Array; feats: Uint16Array | null }> {
  if (want && !teacher.tapped) {
    // A teacher outside tfjs: logits and features as host arrays from one pass.
    const t = await teacher.hostTapped!(x, n, want);
    if (!t.features || t.features.dim !== D) throw new Error(`teacher "${teacher.name}": expected ${D} pooled features, got ${t.features?.dim ?? 'none'}`);
    const probs = tf.tidy(() => tf.softmax(tf.tensor2d(t.logits, [n, t.logits.length / n])));
    const data = (await probs.data()) as Float32Array;
    probs.dispose();
    return { data, feats: toFloat16Bits(t.features.data) };
  }
  if (want) {
    const { probs, pooled } = tf.tidy(() => {
      const t = teacher.tapped!(tf.tensor4d(x, shape), want);
      if (!t.features || t.features.shape[1] !== D) throw new Error(`teacher "${teacher.name}": expected ${D} pooled features, got ${JSON.stringify(t.features?.shape ?? null)}`);
      return { probs: tf.softmax(t.logits), pooled: t.features };
    });
    const [data, f32] = (await Promise.all([probs.data(), pooled.data()])) as [Float32Array, Float32Array];
    tf.dispose([probs, pooled]);
    return { data, feats: toFloat16Bits(f32) };
  }
  const out = 'logits' in teacher ? tf.tidy(() => tf.softmax(teacher.logits(tf.tensor4d(x, shape)))) : await softmaxOfHost(teacher, x, n);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return { data, feats: null };
}

/** One new segment with the rows computed now, grouped by the set of views each image got. */
function writeSegment(
  dir: string,
  bucket: string,
  o: Pick<EnsureTeacherViewsOptions, 'teacherId' | 'seed'>,
  teacherSize: number,
  C: number,
  D: number,
  computed: Map<string, Map<number, { probs: Float32Array; features: Uint16Array | null }>>,
): void {
  const groups = new Map<string, string[]>();
  for (const [key, m] of computed) {
    const sig = [...m.keys()].sort((a, b) => a - b).join(',');
    const g = groups.get(sig);
    if (g) g.push(key);
    else groups.set(sig, [key]);
  }
  let last = '';
  for (const [sig, keys] of groups) {
    const viewList = sig.split(',').map(Number);
    const J = viewList.length;
    const data = new Float32Array(keys.length * J * C);
    const half = D > 0 ? new Uint16Array(keys.length * J * D) : null;
    keys.forEach((k, ki) =>
      viewList.forEach((v, j) => {
        const e = computed.get(k)!.get(v)!;
        data.set(e.probs, (ki * J + j) * C);
        if (half) half.set(e.features!, (ki * J + j) * D);
      }),
    );
    const segment = bucket + crypto.createHash('sha256').update(`${sig}:${keys.join('\n')}:${Date.now()}:${Math.random()}`).digest('hex').slice(0, 16);
    const f = filesOf(dir, segment);
    // Data first, then the meta: a meta file only ever describes complete data files.
    writeFileAtomic(f.bin, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (half) writeFileAtomic(f.f16, new Uint8Array(half.buffer, half.byteOffset, half.byteLength));
    const meta: Meta = {
      format: FORMAT,
      bucket,
      teacherId: o.teacherId,
      classes: C,
      teacherSize,
      seed: o.seed,
      keys,
      viewList,
      ...(D > 0 && { featureDim: D }),
      createdAt: new Date().toISOString(),
    };
    writeFileAtomic(f.json, JSON.stringify(meta));
    last = segment;
  }
  try {
    pruneTeacherViews(dir, { keep: last });
  } catch {
    // Housekeeping only: the labels are computed and stored, so the run goes on; the next write retries.
  }
}
