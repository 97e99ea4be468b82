// Batch items straight from a folder, for the bench and tools that run without a dataset in the
// store: class subfolders give labels (sorted names → 0, 1, …), files at the top level get none.
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { BatchItem } from './batcher.js';

const IMAGE = /\.(jpe?g|png|webp|gif|tiff?|bmp)$/i;

export interface FolderItems {
  items: BatchItem[];
  classes: string[];
}

export async function itemsFromFolder(root: string): Promise<FolderItems> {
  const entries = await readdir(root, { withFileTypes: true });
  const key = (p: string): string => relative(root, p).split(sep).join('/');
  const items: BatchItem[] = entries
    .filter((e) => e.isFile() && IMAGE.test(e.name))
    .map((e) => e.name)
    .sort()
    .map((name) => ({ key: key(join(root, name)), path: join(root, name), label: null }));
  const classes = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  for (const [label, cls] of classes.entries()) {
    const files = (await readdir(join(root, cls), { withFileTypes: true }))
      .filter((e) => e.isFile() && IMAGE.test(e.name))
      .map((e) => e.name)
      .sort();
    for (const f of files) items.push({ key: key(join(root, cls, f)), path: join(root, cls, f), label });
  }
  return { items, classes };
}
