// The one folder-listing rule, and that import, eval and folder items (bench, tools) all follow it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listImageFiles } from '../../src/main/engine/data/image-files.js';
import { itemsFromFolder } from '../../src/main/engine/data/folder-items.js';
import { listClassFolder } from '../../src/main/engine/evaluate.js';
import { walk } from '../../src/main/datasets/scan.js';

let root: string;
let outside: string;
const touch = (rel: string, base = root): void => {
  fs.mkdirSync(path.dirname(path.join(base, rel)), { recursive: true });
  fs.writeFileSync(path.join(base, rel), rel);
};

beforeAll(() => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-listing-'));
  root = path.join(tmp, 'set');
  outside = path.join(tmp, 'elsewhere');
  for (const f of ['dog/b.JPG', 'dog/a.png', 'dog/sub/deep.webp', 'cat/Z.jpeg', 'cat/a b é.tif', 'cat/notes.txt', 'cat/.hidden.jpg', '.git/x.jpg', 'loose.bmp', 'README.md', 'cat/x.gif', 'cat/y.tiff', 'cat/noext']) touch(f);
  touch('bird/one.jpg', outside);
  fs.mkdirSync(path.join(root, 'empty'));
  // A linked class folder, a linked file, a loop back to the root and a dangling link.
  fs.symlinkSync(path.join(outside, 'bird'), path.join(root, 'bird'));
  fs.symlinkSync(path.join(root, 'dog', 'a.png'), path.join(root, 'cat', 'link.png'));
  fs.symlinkSync(root, path.join(root, 'dog', 'loop'));
  fs.symlinkSync(path.join(root, 'nowhere.jpg'), path.join(root, 'cat', 'dangling.jpg'));
});
afterAll(() => fs.rmSync(path.dirname(root), { recursive: true, force: true }));

const rel = (p: string): string => path.relative(root, p).split(path.sep).join('/');

describe('listImageFiles', () => {
  it('keeps image extensions in any case, skips hidden names at every depth, follows links once, sorts by code point', async () => {
    const l = await listImageFiles(root);
    expect(l.files.map((f) => rel(f.path))).toEqual([
      'bird/one.jpg',
      'cat/Z.jpeg',
      'cat/a b é.tif',
      'cat/link.png',
      'cat/x.gif',
      'cat/y.tiff',
      'dog/a.png',
      'dog/b.JPG',
      'dog/sub/deep.webp',
      'loose.bmp',
    ]);
    // notes.txt, noext, README.md; the dangling link is neither a file nor a folder.
    expect(l.ignored).toBe(3);
    expect(l.classFolders).toEqual(['bird', 'cat', 'dog', 'empty']);
    const deep = l.files.find((f) => f.path.endsWith('deep.webp'))!;
    expect(deep.segments).toEqual(['dog', 'sub', 'deep.webp']);
    expect(deep.bytes).toBe('dog/sub/deep.webp'.length);
  });

  it('lists one file, or nothing for a missing path', async () => {
    expect((await listImageFiles(root, path.join(root, 'cat', 'x.gif'))).files.map((f) => f.segments)).toEqual([['cat', 'x.gif']]);
    expect((await listImageFiles(path.join(root, 'nope'))).files).toEqual([]);
  });
});

describe('every user of a folder sees the same images', () => {
  it('import (labeled role), eval and folder items agree', async () => {
    const inClasses = (await listImageFiles(root)).files.filter((f) => f.segments.length > 1).map((f) => f.path);
    const scanned = await walk(root, 'labeled');
    expect(scanned.files.filter((f) => !f.misplaced).map((f) => f.path)).toEqual(inClasses);
    expect(scanned.files.filter((f) => f.misplaced).map((f) => rel(f.path))).toEqual(['loose.bmp']);
    expect(scanned.files.find((f) => f.path.endsWith('deep.webp'))!.label).toBe('dog');

    const evalItems = await listClassFolder(root);
    expect(evalItems.map((i) => i.path)).toEqual(inClasses);
    expect(evalItems.map((i) => i.label)).toEqual(scanned.files.filter((f) => !f.misplaced).map((f) => f.label));

    const { items, classes } = await itemsFromFolder(root);
    expect(classes).toEqual(['bird', 'cat', 'dog', 'empty']);
    expect(items.map((i) => i.path)).toEqual((await listImageFiles(root)).files.map((f) => f.path));
    expect(items.find((i) => i.key === 'dog/sub/deep.webp')!.label).toBe(2);
    expect(items.find((i) => i.key === 'loose.bmp')!.label).toBeNull();
  });

  it('eval refuses a folder without class subfolders, naming it', async () => {
    await expect(listClassFolder(path.join(root, 'empty'))).rejects.toThrow(`${path.join(root, 'empty')}: no images in class subfolders`);
    await expect(listClassFolder(path.join(root, 'nope'))).rejects.toThrow(/nope: not a folder/);
  });
});
