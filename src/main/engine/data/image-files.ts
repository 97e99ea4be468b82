// The one rule for "the images in a folder", used by dataset import, `distill eval`, folder items
// (bench, tools) alike, so a folder means the same set of images everywhere:
// - an image is a file whose extension (any case) is one of IMAGE_EXTENSIONS; other files are counted
//   as ignored, never read;
// - names starting with a dot (.DS_Store, .git, editors' temp files) are skipped at every depth;
// - subfolders are walked to any depth; the first path segment under the root is the class folder;
// - symlinked files and folders are followed, each real folder visited once (a link loop ends);
// - a folder that cannot be read, or a file that vanishes while listed, is left out (a rescan sees it);
// - files are sorted by path in code-point order (the same on every machine and locale).
import fs from 'node:fs';
import path from 'node:path';

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.bmp']);

export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());
}

export function isHidden(name: string): boolean {
  return name.startsWith('.');
}

export interface ImageFile {
  path: string;
  /** Path segments under the listing's root: length 1 for a loose file, else segments[0] is its class folder. */
  segments: string[];
  bytes: number;
  mtimeMs: number;
}

export interface ImageListing {
  files: ImageFile[];
  /** Non-image files seen (README, .txt …), not reported individually. */
  ignored: number;
  /** Non-hidden folders (links to folders included) directly under the root, sorted: the class folders. */
  classFolders: string[];
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/**
 * Lists the images at or below `start` (a folder or one file; default `root`) by the rule above.
 * `segments` are relative to `root`. A missing `start` lists nothing.
 */
export async function listImageFiles(root: string, start: string = root): Promise<ImageListing> {
  const files: ImageFile[] = [];
  const classFolders: string[] = [];
  let ignored = 0;
  const seenDirs = new Set<string>();
  const pending: string[] = [];

  const addFile = async (p: string, st?: fs.Stats): Promise<void> => {
    if (!isImageName(p)) {
      ignored++;
      return;
    }
    const s = st ?? (await fs.promises.stat(p).catch(() => null));
    if (!s) return; // vanished between listing and stat
    files.push({ path: p, segments: path.relative(root, p).split(path.sep), bytes: s.size, mtimeMs: s.mtimeMs });
  };

  const startStat = await fs.promises.stat(start).catch(() => null);
  if (!startStat) return { files, ignored, classFolders };
  if (startStat.isFile()) {
    await addFile(start, startStat);
    return { files, ignored, classFolders };
  }
  pending.push(start);
  while (pending.length > 0) {
    const dir = pending.pop()!;
    const real = await fs.promises.realpath(dir).catch(() => null);
    if (!real || seenDirs.has(real)) continue;
    seenDirs.add(real);
    const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => null);
    if (!entries) continue;
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
      if (isDir) {
        pending.push(p);
        if (dir === root) classFolders.push(e.name);
      } else if (isFile) fileJobs.push(addFile(p));
      // Stat in slices so a folder of 25,000 files neither serializes nor floods the thread pool.
      if (fileJobs.length >= 64) await Promise.all(fileJobs.splice(0));
    }
    await Promise.all(fileJobs);
  }
  files.sort(byPath);
  classFolders.sort();
  return { files, ignored, classFolders };
}
