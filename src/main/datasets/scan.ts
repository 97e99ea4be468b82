// Walks a dataset folder and lists its image files with size and mtime (what decides "changed").
// Labeled and val folders hold one subfolder per class; unlabeled folders may be nested freely.
import fs from 'node:fs';
import path from 'node:path';
import type { FolderRole } from '../../shared/domain.js';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.bmp']);

export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/** Dotfiles and dot-folders (.DS_Store, .git, editors' temp files) are never part of a dataset. */
export function isHidden(name: string): boolean {
  return name.startsWith('.');
}

export interface FoundFile {
  path: string;
  /** Class for labeled/val files; null for unlabeled ones and misplaced files. */
  label: string | null;
  bytes: number;
  mtimeMs: number;
  /** Why the file cannot be used without reading it (e.g. an image at the root of a labeled folder). */
  misplaced: string | null;
}

export const MISPLACED_REASON = 'not inside a class subfolder (labeled and val folders hold one subfolder per class)';

/**
 * Where a file under `root` belongs: its class (first path segment under a labeled/val root) or why
 * it is misplaced. Null when the path is not under root or is hidden.
 */
export function classify(root: string, role: FolderRole, file: string): { label: string | null; misplaced: string | null } | null {
  const rel = path.relative(root, file);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(path.sep);
  if (parts.some(isHidden)) return null;
  if (role === 'unlabeled') return { label: null, misplaced: null };
  if (parts.length === 1) return { label: null, misplaced: MISPLACED_REASON };
  return { label: parts[0]!, misplaced: null };
}

export interface WalkResult {
  files: FoundFile[];
  /** Non-image files seen (README, .txt …), not reported individually. */
  ignored: number;
}

/**
 * Lists image files at or below `start` (a folder or a file) belonging to the dataset folder `root`.
 * Symlinked files and folders are followed, with a guard against cycles.
 */
export async function walk(root: string, role: FolderRole, start: string = root): Promise<WalkResult> {
  const files: FoundFile[] = [];
  let ignored = 0;
  const seenDirs = new Set<string>();
  const pending: string[] = [];

  const addFile = async (p: string, st?: fs.Stats): Promise<void> => {
    if (!isImageName(p)) {
      ignored++;
      return;
    }
    const where = classify(root, role, p);
    if (!where) return;
    try {
      const s = st ?? (await fs.promises.stat(p));
      files.push({ path: p, label: where.label, bytes: s.size, mtimeMs: s.mtimeMs, misplaced: where.misplaced });
    } catch {
      // Vanished between listing and stat: it will be seen as missing.
    }
  };

  const startStat = await fs.promises.stat(start).catch(() => null);
  if (!startStat) return { files, ignored };
  if (startStat.isFile()) {
    await addFile(start, startStat);
    return { files, ignored };
  }
  pending.push(start);
  while (pending.length > 0) {
    const dir = pending.pop()!;
    const real = await fs.promises.realpath(dir).catch(() => null);
    if (!real || seenDirs.has(real)) continue;
    seenDirs.add(real);
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    const fileJobs: Promise<void>[] = [];
    for (const e of entries) {
      if (isHidden(e.name)) continue;
      const p = path.join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const target = await fs.promises.stat(p).catch(() => null);
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) pending.push(p);
      else if (isFile) fileJobs.push(addFile(p));
      // Stat in slices so a folder of 25,000 files neither serializes nor floods the thread pool.
      if (fileJobs.length >= 64) await Promise.all(fileJobs.splice(0));
    }
    await Promise.all(fileJobs);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, ignored };
}
