// Housekeeping for <home>/cache/teacher-views: every new teacher, image set, seed or augmentation
// writes another soft-label file and nothing ever reads the old ones again, so without pruning the
// folder only grows. Pruned after each new file is written (the only time it grows).
//
// Defaults: an entry unused for 30 days is dropped (a re-run after that pays the teacher once more),
// and the folder is kept under 1 GiB, least recently used first. 1 GiB holds e.g. 16 sets of
// 100k images × 4 views × 10 classes (16 MB each), far more than the few live ones a user trains from.
import fs from 'node:fs';
import path from 'node:path';

const DAY_MS = 24 * 60 * 60 * 1000;

export const TEACHER_VIEWS_MAX_AGE_MS = 30 * DAY_MS;
export const TEACHER_VIEWS_MAX_BYTES = 1024 ** 3;

/** A cache entry's files: `<key>.bin` (probabilities), `<key>.f16` (features, if any) and `<key>.json` (its meta). */
const ENTRY_FILE = /^([0-9a-f]+)\.(bin|f16|json)$/;
/** writeFileAtomic's temp files (`.<name>.<random>.tmp`): left behind only by a crash mid-write. */
const TEMP_FILE = /^\..+\.tmp$/;

export interface PruneTeacherViewsOptions {
  /** Key of the entry in use (just written or read): never removed, though its bytes count. */
  keep: string;
  maxAgeMs?: number;
  maxBytes?: number;
  /** Clock for the age test (tests pass a fixed one). */
  now?: number;
}

interface Entry {
  key: string;
  files: string[];
  bytes: number;
  /** Newest access or modification of any of its files: a hit touches them (see teacher-cache.ts). */
  lastUsed: number;
}

function removeEntry(e: Entry): void {
  // The meta first: a meta file only ever describes a complete data file.
  const meta = e.files.filter((f) => f.endsWith('.json'));
  for (const f of [...meta, ...e.files.filter((f) => !meta.includes(f))]) fs.rmSync(f, { force: true });
}

/** Removes stale and least recently used entries of `dir`; returns the keys removed. */
export function pruneTeacherViews(dir: string, o: PruneTeacherViewsOptions): string[] {
  const maxAge = o.maxAgeMs ?? TEACHER_VIEWS_MAX_AGE_MS;
  const maxBytes = o.maxBytes ?? TEACHER_VIEWS_MAX_BYTES;
  const now = o.now ?? Date.now();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const entries = new Map<string, Entry>();
  for (const name of names) {
    const file = path.join(dir, name);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      continue; // removed meanwhile (another process pruning)
    }
    if (!st.isFile()) continue;
    const used = Math.max(st.atimeMs, st.mtimeMs);
    const m = ENTRY_FILE.exec(name);
    if (!m) {
      // A young temp file may be another process writing right now; an old one is a crash's leftover.
      if (TEMP_FILE.test(name) && now - used > maxAge) fs.rmSync(file, { force: true });
      continue;
    }
    const e = entries.get(m[1]!) ?? { key: m[1]!, files: [], bytes: 0, lastUsed: 0 };
    e.files.push(file);
    e.bytes += st.size;
    e.lastUsed = Math.max(e.lastUsed, used);
    entries.set(e.key, e);
  }

  const removed: string[] = [];
  const kept: Entry[] = [];
  for (const e of entries.values()) {
    if (e.key !== o.keep && now - e.lastUsed > maxAge) {
      removeEntry(e);
      removed.push(e.key);
    } else {
      kept.push(e);
    }
  }
  let total = kept.reduce((s, e) => s + e.bytes, 0);
  kept.sort((a, b) => a.lastUsed - b.lastUsed);
  for (const e of kept) {
    if (total <= maxBytes) break;
    if (e.key === o.keep) continue;
    removeEntry(e);
    removed.push(e.key);
    total -= e.bytes;
  }
  return removed;
}
