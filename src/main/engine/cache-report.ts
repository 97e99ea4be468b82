// What each cache of a home holds and its bound, for `distill doctor`: the in-memory decoded images
// (per process), the persistent decoded squares and the teacher soft-label segments on disk.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_CACHE_BYTES } from './data/image-cache.js';
import { DEFAULT_DECODED_STORE_BYTES } from './data/decoded-store.js';
import { TEACHER_VIEWS_MAX_AGE_MS, TEACHER_VIEWS_MAX_BYTES } from './train/teacher-cache-prune.js';

export interface CacheLine {
  name: string;
  where: string;
  /** Bytes held now (null: lives only inside a running process). */
  bytes: number | null;
  files: number | null;
  boundBytes: number;
  bound: string;
}

function folderUsage(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (d: string) => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return; // absent: empty
    }
    for (const n of names) {
      const p = path.join(d, n.name);
      if (n.isDirectory()) walk(p);
      else if (n.isFile()) {
        try {
          bytes += fs.statSync(p).size;
          files++;
        } catch {
          // removed meanwhile
        }
      }
    }
  };
  walk(dir);
  return { bytes, files };
}

const GiB = 1024 ** 3;

export function cacheReport(home: string): CacheLine[] {
  const decoded = path.join(home, 'cache', 'decoded');
  const views = path.join(home, 'cache', 'teacher-views');
  const d = folderUsage(decoded);
  const v = folderUsage(views);
  return [
    {
      name: 'decoded images (memory)',
      where: 'each trainer process; beyond it, a spill file in the temp folder',
      bytes: null,
      files: null,
      boundBytes: DEFAULT_CACHE_BYTES,
      bound: `${DEFAULT_CACHE_BYTES / GiB} GiB of pixels per process; the teacher's squares leave it once its soft labels are cached`,
    },
    {
      name: 'decoded images (disk)',
      where: decoded,
      ...d,
      boundBytes: DEFAULT_DECODED_STORE_BYTES,
      bound: `${DEFAULT_DECODED_STORE_BYTES / GiB} GiB, least recently used removed`,
    },
    {
      name: 'teacher soft labels',
      where: views,
      ...v,
      boundBytes: TEACHER_VIEWS_MAX_BYTES,
      bound: `${TEACHER_VIEWS_MAX_BYTES / GiB} GiB and ${TEACHER_VIEWS_MAX_AGE_MS / 86_400_000} days unused, per image, view and teacher`,
    },
  ];
}
