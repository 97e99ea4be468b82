import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store/index.js';
import { importDataset, inspectFolder, rescanDataset, type ImportProgress } from '../../src/main/datasets/import.js';
import { syntheticJpeg, writeCatdogLike } from '../helpers/synthetic-images.js';
import { describeWithShared } from '../shared-data.js';

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A valid small PNG whose IHDR is rewritten to claim width×height (CRC fixed so decoders trust it). */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer());
  // signature(8) + length(4) + "IHDR"(4) + width(4) + height(4) …; the IHDR CRC covers type+data (17 bytes).
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A 24-bit bottom-up BMP of the given RGB pixels, written by hand. */
function bmp24(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + rowBytes * height);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const o = 54 + (height - 1 - y) * rowBytes + x * 3;
      buf[o] = b;
      buf[o + 1] = g;
      buf[o + 2] = r;
    }
  }
  return buf;
}

describe('dataset import on a generated cat/dog-shaped set with bad files', () => {
  let root: string;
  let store: Store;
  const lab = () => path.join(root, 'labeled');
  const unl = () => path.join(root, 'unlabeled');
  const val = () => path.join(root, 'val');
  const spec = () => ({
    name: 'pets',
    folders: [
      { path: lab(), role: 'labeled' as const },
      { path: unl(), role: 'unlabeled' as const },
      { path: val(), role: 'val' as const },
    ],
  });

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-import-'));
    store = Store.open(path.join(root, 'home'));
    await writeCatdogLike(root, { labeled: 10, unlabeled: 30, val: 10 }, 48);

    // A 200×200 photo-like JPEG the variants are made from.
    const src = await syntheticJpeg(200, 200, 4242);
    const base = sharp(src);
    // Readable variants: alpha PNG, EXIF-rotated JPEG (cat); grayscale, CMYK, GIF, WebP, TIFF, BMP (dog).
    await sharp({ create: { width: 24, height: 16, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
      .png()
      .toFile(path.join(lab(), 'cat', 'alpha.PNG'));
    await sharp({ create: { width: 40, height: 20, channels: 3, background: '#00ff00' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(path.join(lab(), 'cat', 'rotated.jpg'));
    await base.clone().toColourspace('b-w').jpeg().toFile(path.join(lab(), 'dog', 'gray.jpg'));
    await base.clone().toColourspace('cmyk').jpeg().toFile(path.join(lab(), 'dog', 'cmyk.jpeg'));
    // A two-frame animated GIF: indexed by its first frame (30×20), not the frames stacked.
    const frames = await Promise.all(['#ff0000', '#0000ff'].map((c) => sharp({ create: { width: 30, height: 20, channels: 3, background: c } }).png().toBuffer()));
    await sharp(frames, { join: { animated: true } }).gif().toFile(path.join(lab(), 'dog', 'frames.gif'));
    await base.clone().webp().toFile(path.join(lab(), 'dog', 'img.webp'));
    await base.clone().tiff().toFile(path.join(lab(), 'dog', 'img.tif'));
    fs.writeFileSync(path.join(lab(), 'dog', 'img.BMP'), bmp24(5, 3, (x, y) => [x * 50, y * 100, 7]));
    // Unreadable files in the unlabeled pool.
    fs.writeFileSync(path.join(unl(), 'empty.jpg'), Buffer.alloc(0));
    fs.writeFileSync(path.join(unl(), 'truncated.jpg'), src.subarray(0, Math.floor(src.length / 2)));
    fs.writeFileSync(path.join(unl(), 'notes.jpg'), 'this is a text file, not a photo\n');
    fs.writeFileSync(path.join(unl(), 'bomb.png'), await pngClaiming(100_000, 100_000));
    const corrupt = Buffer.from(src);
    corrupt.fill(0, Math.floor(corrupt.length / 2), Math.floor(corrupt.length / 2) + 200);
    fs.writeFileSync(path.join(unl(), 'corrupt.jpg'), corrupt);
    // A copy of a labeled image in the pool, a loose image at the labeled root, and a non-image file.
    fs.copyFileSync(path.join(lab(), 'cat', 'cat.0.jpg'), path.join(unl(), 'zz-copy.jpg'));
    fs.copyFileSync(path.join(lab(), 'cat', 'cat.1.jpg'), path.join(lab(), 'stray.jpg'));
    fs.writeFileSync(path.join(unl(), 'README.txt'), 'not an image');
    fs.writeFileSync(path.join(unl(), '.DS_Store'), 'hidden');
  });
  afterAll(() => {
    store?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('guesses folder roles', async () => {
    expect(await inspectFolder(lab())).toEqual({ path: lab(), role: 'labeled', classes: ['cat', 'dog'], images: 28 });
    expect(await inspectFolder(unl())).toMatchObject({ role: 'unlabeled', classes: [], images: 36 });
    await expect(inspectFolder(path.join(root, 'nope'))).rejects.toThrow(/folder not found/);
  });

  it('indexes good files, lists every bad file with its reason, counts duplicates once', async () => {
    const progress: ImportProgress[] = [];
    // A timer that should keep firing while the import runs: nothing blocks the event loop for long.
    let lastTick = Date.now();
    let worstGap = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      worstGap = Math.max(worstGap, now - lastTick);
      lastTick = now;
    }, 10);
    const r = await importDataset(store, spec(), (p) => progress.push(p));
    clearInterval(timer);

    expect(r.labeled).toEqual({ cat: 12, dog: 16 });
    expect(r.val).toEqual({ cat: 10, dog: 10 });
    expect(r.unlabeled).toBe(30);
    expect(r.dataset.classes).toEqual(['cat', 'dog']);
    expect(r.duplicates).toBe(1);
    expect(r.ignored).toBe(1);
    // stray.jpg is skipped by its place alone, without being read.
    expect(r.read).toBe(28 + 36 + 20);
    const reasons = Object.fromEntries(r.skipped.map((s) => [path.relative(root, s.file), s.reason]));
    expect(Object.keys(reasons).sort()).toEqual(
      ['labeled/stray.jpg', 'unlabeled/bomb.png', 'unlabeled/corrupt.jpg', 'unlabeled/empty.jpg', 'unlabeled/notes.jpg', 'unlabeled/truncated.jpg'].sort(),
    );
    expect(reasons['unlabeled/empty.jpg']).toMatch(/empty file \(0 bytes\)/);
    expect(reasons['unlabeled/truncated.jpg']).toMatch(/truncated/);
    expect(reasons['unlabeled/notes.jpg']).toMatch(/not an image/);
    expect(reasons['unlabeled/bomb.png']).toMatch(/decompression bomb: 100000×100000/);
    expect(reasons['unlabeled/corrupt.jpg']).toMatch(/corrupt/);
    expect(reasons['labeled/stray.jpg']).toMatch(/class subfolder/);

    const copy = store.images.getImageByPath(r.dataset.id, path.join(unl(), 'zz-copy.jpg'))!;
    expect(copy.status).toBe('duplicate');
    expect(copy.error).toBe(`duplicate of ${path.join(lab(), 'cat', 'cat.0.jpg')}`);
    const original = store.images.getImageByPath(r.dataset.id, path.join(lab(), 'cat', 'cat.0.jpg'))!;
    expect(copy.hash).toBe(original.hash);
    expect(original.hash).toMatch(/^[0-9a-f]{64}$/);

    // Orientation 6 (90° cw) turns the stored 40×20 into 20×40 as displayed.
    expect(store.images.getImageByPath(r.dataset.id, path.join(lab(), 'cat', 'rotated.jpg'))).toMatchObject({ width: 20, height: 40, status: 'ok' });
    expect(store.images.getImageByPath(r.dataset.id, path.join(lab(), 'dog', 'img.BMP'))).toMatchObject({ width: 5, height: 3, status: 'ok', label: 'dog' });
    expect((await sharp(path.join(lab(), 'dog', 'cmyk.jpeg')).metadata()).space).toBe('cmyk');
    expect((await sharp(path.join(lab(), 'dog', 'frames.gif')).metadata()).pages).toBe(2);
    expect(store.images.getImageByPath(r.dataset.id, path.join(lab(), 'dog', 'frames.gif'))).toMatchObject({ width: 30, height: 20, status: 'ok' });

    const reads = progress.filter((p) => p.phase === 'read');
    expect(reads.at(-1)).toEqual({ phase: 'read', done: r.read, total: r.read });
    expect(progress.at(-1)!.phase).toBe('finish');
    expect(worstGap).toBeLessThan(1000);
  });

  it('re-reads only new or changed files and marks vanished ones missing', async () => {
    const again = await importDataset(store, spec());
    expect(again.read).toBe(0);
    expect(again.unchanged).toBe(85);
    expect(again.skipped).toHaveLength(6);

    // One new file.
    const extra = 'u100.jpg';
    const extraBytes = await syntheticJpeg(48, 48, 5000);
    fs.writeFileSync(path.join(unl(), extra), extraBytes);
    const added = await rescanDataset(store, 'pets');
    expect(added.read).toBe(1);
    expect(added.unlabeled).toBe(31);

    // One file replaced by different content (and a later mtime), one removed.
    const victim = fs.readdirSync(unl()).filter((f) => f.startsWith('u')).sort()[0]!;
    fs.writeFileSync(path.join(unl(), victim), await syntheticJpeg(48, 48, 5001));
    fs.utimesSync(path.join(unl(), victim), new Date(), new Date(Date.now() + 5000));
    fs.rmSync(path.join(unl(), extra));
    const changed = await importDataset(store, spec());
    expect(changed.read).toBe(1);
    expect(changed.missing).toBe(1);
    expect(changed.unlabeled).toBe(30);
    expect(store.images.getImageByPath(changed.dataset.id, path.join(unl(), extra))!.status).toBe('missing');

    // The file comes back: read again and usable.
    fs.writeFileSync(path.join(unl(), extra), extraBytes);
    const back = await rescanDataset(store, changed.dataset.id);
    expect(back.read).toBe(1);
    expect(back.unlabeled).toBe(31);
  });

  it('refuses missing and overlapping folders before touching the store', async () => {
    await expect(importDataset(store, { name: 'x', folders: [{ path: path.join(root, 'nope'), role: 'unlabeled' }] })).rejects.toThrow(/folder not found/);
    await expect(
      importDataset(store, { name: 'x', folders: [{ path: lab(), role: 'labeled' }, { path: path.join(lab(), 'cat'), role: 'unlabeled' }] }),
    ).rejects.toThrow(/overlap/);
    expect(store.datasets.findDatasetId('x')).toBeNull();
  });
});

describeWithShared('the full catdog folders', (CATDOG) => {
  // Indexes 3,200 images; about 10-20 s on a 2-core machine.
  it('indexes every image and re-adds without reading any', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-full-'));
    const store = Store.open(home);
    try {
      const t0 = Date.now();
      const r = await importDataset(store, {
        name: 'catdog',
        folders: [
          { path: path.join(CATDOG, 'labeled'), role: 'labeled' },
          { path: path.join(CATDOG, 'unlabeled'), role: 'unlabeled' },
          { path: path.join(CATDOG, 'val'), role: 'val' },
        ],
      });
      const seconds = (Date.now() - t0) / 1000;
      expect(r.read).toBe(3200);
      expect(r.skipped).toEqual([]);
      // The folder's README counts; the set has no byte-identical copies.
      expect({ labeled: r.labeled, unlabeled: r.unlabeled, val: r.val, duplicates: r.duplicates }).toEqual({
        labeled: { cat: 100, dog: 100 },
        unlabeled: 2000,
        val: { cat: 500, dog: 500 },
        duplicates: 0,
      });
      console.log(`full catdog: ${JSON.stringify({ labeled: r.labeled, unlabeled: r.unlabeled, val: r.val, duplicates: r.duplicates, seconds })}`);
      const again = await importDataset(store, { name: 'catdog', folders: [{ path: path.join(CATDOG, 'labeled'), role: 'labeled' }] });
      expect(again.read).toBe(0);
      expect(again.unchanged).toBe(3200);
    } finally {
      store.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);
});
