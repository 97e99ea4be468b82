// Walks a dataset folder and lists its image files with size and mtime (what decides "changed").
// Labeled and val folders hold one subfolder per class; unlabeled folders may be nested freely.
import path from 'node:path';
import type { FolderRole } from '../../shared/domain.js';
import { isHidden, listImageFiles } from '../engine/data/image-files.js';

export { IMAGE_EXTENSIONS, isHidden, isImageName } from '../engine/data/image-files.js';

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
 * Lists image files at or below `start` (a folder or a file) belonging to the dataset folder `root`,
 * by the one folder-listing rule (engine/data/image-files.ts), each with its class or why it is misplaced.
 */
export async function walk(root: string, role: FolderRole, start: string = root): Promise<WalkResult> {
  const listing = await listImageFiles(root, start);
  const files: FoundFile[] = [];
  for (const f of listing.files) {
    const where = classify(root, role, f.path);
    if (where) files.push({ path: f.path, label: where.label, bytes: f.bytes, mtimeMs: f.mtimeMs, misplaced: where.misplaced });
  }
  return { files, ignored: listing.ignored };
}
