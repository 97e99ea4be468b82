// Guesses a dropped folder's role: several image-bearing subfolders holding most of the images look
// like class folders (labeled); anything else is an unlabeled pool. The user can correct the guess.
import fs from 'node:fs';
import path from 'node:path';
import { isHidden, isImageName } from './scan.js';

export interface FolderGuess {
  path: string;
  role: 'labeled' | 'unlabeled';
  classes: string[];
  images: number;
}

async function countImages(dir: string, depth = 0): Promise<number> {
  if (depth > 32) return 0;
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let n = 0;
  for (const e of entries) {
    if (isHidden(e.name)) continue;
    const p = path.join(dir, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await fs.promises.stat(p).catch(() => null))?.isDirectory() === true);
    if (isDir) n += await countImages(p, depth + 1);
    else if (isImageName(e.name)) n++;
  }
  return n;
}

export async function inspectFolder(folder: string): Promise<FolderGuess> {
  const abs = path.resolve(folder);
  const st = await fs.promises.stat(abs).catch(() => null);
  if (!st) throw new Error(`folder not found: ${abs}`);
  if (!st.isDirectory()) throw new Error(`not a folder: ${abs}`);
  const entries = await fs.promises.readdir(abs, { withFileTypes: true });
  let loose = 0;
  const perClass: [string, number][] = [];
  for (const e of entries) {
    if (isHidden(e.name)) continue;
    const p = path.join(abs, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await fs.promises.stat(p).catch(() => null))?.isDirectory() === true);
    if (isDir) {
      const n = await countImages(p);
      if (n > 0) perClass.push([e.name, n]);
    } else if (isImageName(e.name)) loose++;
  }
  const subTotal = perClass.reduce((s, [, n]) => s + n, 0);
  // A few loose files next to class folders are strays (skipped at import), not a sign of a flat pool.
  if (perClass.length >= 2 && loose < subTotal) {
    return { path: abs, role: 'labeled', classes: perClass.map(([c]) => c).sort(), images: subTotal };
  }
  return { path: abs, role: 'unlabeled', classes: [], images: loose + subTotal };
}
