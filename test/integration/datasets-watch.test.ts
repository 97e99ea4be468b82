import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store/index.js';
import { importDataset } from '../../src/main/datasets/import.js';
import { watchDataset, type DatasetWatcher } from '../../src/main/datasets/watcher.js';

let root: string;
let store: Store;
let watcher: DatasetWatcher;
const changes: number[] = [];

const png = (shade: number) => sharp({ create: { width: 16, height: 16, channels: 3, background: { r: shade, g: 0, b: 0 } } }).png().toBuffer();

/** Waits until onChange has fired `n` times in total. */
async function changesReach(n: number, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (changes.length < n) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`only ${changes.length} change events, expected ${n}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-watch-'));
  store = Store.open(path.join(root, 'home'));
  fs.mkdirSync(path.join(root, 'lab', 'cat'), { recursive: true });
  fs.mkdirSync(path.join(root, 'lab', 'dog'), { recursive: true });
  fs.mkdirSync(path.join(root, 'pool'));
  for (let i = 0; i < 3; i++) {
    fs.writeFileSync(path.join(root, 'lab', 'cat', `c${i}.png`), await png(10 + i));
    fs.writeFileSync(path.join(root, 'lab', 'dog', `d${i}.png`), await png(20 + i));
    fs.writeFileSync(path.join(root, 'pool', `u${i}.png`), await png(30 + i));
  }
  const r = await importDataset(store, {
    name: 'w',
    folders: [
      { path: path.join(root, 'lab'), role: 'labeled' },
      { path: path.join(root, 'pool'), role: 'unlabeled' },
    ],
  });
  watcher = watchDataset(store, r.dataset.id, (id) => changes.push(id), { debounceMs: 200, stabilityMs: 150 });
  await watcher.ready;
});
afterAll(async () => {
  await watcher?.close();
  store?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const summary = () => store.datasets.getDatasetSummary('w')!;

describe('watchDataset', () => {
  it('picks up an added file', async () => {
    fs.writeFileSync(path.join(root, 'pool', 'new.png'), await png(99));
    await changesReach(1);
    expect(summary().unlabeled).toBe(4);
    expect(changes[0]).toBe(summary().id);
  });

  it('marks a removed file missing', async () => {
    fs.rmSync(path.join(root, 'lab', 'cat', 'c0.png'));
    await changesReach(2);
    expect(summary().labeled).toEqual({ cat: 2, dog: 3 });
    expect(store.images.getImageByPath(summary().id, path.join(root, 'lab', 'cat', 'c0.png'))!.status).toBe('missing');
  });

  it('follows a rename between class folders and a new class folder', async () => {
    fs.renameSync(path.join(root, 'lab', 'dog', 'd0.png'), path.join(root, 'lab', 'cat', 'd0.png'));
    await changesReach(3);
    // Events may arrive in more than one debounce window; wait for the counts to settle.
    const t0 = Date.now();
    while (JSON.stringify(summary().labeled) !== JSON.stringify({ cat: 3, dog: 2 }) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(summary().labeled).toEqual({ cat: 3, dog: 2 });
    expect(store.images.getImageByPath(summary().id, path.join(root, 'lab', 'cat', 'd0.png'))!.label).toBe('cat');

    const before = changes.length;
    fs.mkdirSync(path.join(root, 'lab', 'bird'));
    fs.writeFileSync(path.join(root, 'lab', 'bird', 'b.png'), await png(50));
    await changesReach(before + 1);
    const t1 = Date.now();
    while (!summary().classes.includes('bird') && Date.now() - t1 < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(summary().classes).toEqual(['bird', 'cat', 'dog']);
  });

  it('ignores hidden and non-image files', async () => {
    const before = changes.length;
    fs.writeFileSync(path.join(root, 'pool', '.hidden.png'), await png(1));
    fs.writeFileSync(path.join(root, 'pool', 'notes.txt'), 'x');
    await new Promise((r) => setTimeout(r, 1200));
    expect(changes.length).toBe(before);
    expect(summary().unlabeled).toBe(4);
  });
});
