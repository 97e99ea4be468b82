// Batch items straight from a folder, for the bench and tools that run without a dataset in the
// store: class subfolders give labels (sorted names → 0, 1, …), files at the top level get none.
// Which files count is the one folder-listing rule (image-files.ts).
import type { BatchItem } from './batcher.js';
import { listImageFiles } from './image-files.js';

export interface FolderItems {
  items: BatchItem[];
  classes: string[];
}

export async function itemsFromFolder(root: string): Promise<FolderItems> {
  const { files, classFolders } = await listImageFiles(root);
  const index = new Map(classFolders.map((c, i) => [c, i]));
  const items = files.map((f) => ({
    key: f.segments.join('/'),
    path: f.path,
    label: f.segments.length > 1 ? (index.get(f.segments[0]!) ?? null) : null,
  }));
  return { items, classes: classFolders };
}
