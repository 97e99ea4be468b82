// Import drill on a bad-input corpus made here: every file is either indexed or listed with its
// reason, and nothing else is affected (the good images are all indexed with the right sizes).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store/index.js';
import { importDataset, type ImportProgress } from '../../src/main/datasets/import.js';
import { syntheticImage, syntheticJpeg } from '../helpers/synthetic-images.js';

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A valid 8×8 PNG whose IHDR claims width×height (CRC fixed so decoders trust it). */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await syntheticImage(8, 8, 3).png().toBuffer());
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A valid 16×16 baseline JPEG whose SOF0 frame header claims width×height. */
async function jpegClaiming(width: number, height: number): Promise<Buffer> {
  const jpg = Buffer.from(await syntheticJpeg(16, 16, 4));
  for (let i = 2; i < jpg.length - 9; ) {
    if (jpg[i] !== 0xff) throw new Error('lost in the JPEG markers');
    const marker = jpg[i + 1]!;
    const len = jpg.readUInt16BE(i + 2);
    if (marker === 0xc0 || marker === 0xc2) {
      jpg.writeUInt16BE(height, i + 5);
      jpg.writeUInt16BE(width, i + 7);
      return jpg;
    }
    i += 2 + len;
  }
  throw new Error('no SOF marker');
}

let root: string;
let store: Store;
const lab = (...p: string[]) => path.join(root, 'labeled', ...p);
const unl = (...p: string[]) => path.join(root, 'unlabeled', ...p);

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-bad-'));
  store = Store.open(path.join(root, 'home'));
  fs.mkdirSync(lab('cat'), { recursive: true });
  fs.mkdirSync(lab('dog'), { recursive: true });
  fs.mkdirSync(unl(), { recursive: true });
  // Good images: three per class, and six in the pool.
  for (let i = 0; i < 3; i++) {
    fs.writeFileSync(lab('cat', `c${i}.jpg`), await syntheticJpeg(24, 24, 100 + i));
    fs.writeFileSync(lab('dog', `d${i}.jpg`), await syntheticJpeg(24, 24, 200 + i));
  }
  for (let i = 0; i < 6; i++) fs.writeFileSync(unl(`u${i}.jpg`), await syntheticJpeg(24, 24, 300 + i));
  // Readable oddities, in the classes.
  await syntheticImage(1, 1, 5).png().toFile(lab('cat', 'one-pixel.png'));
  await syntheticImage(30, 20, 6).toColourspace('cmyk').jpeg().toFile(lab('cat', 'cmyk.jpg'));
  await syntheticImage(30, 20, 7).toColourspace('rgb16').png().toFile(lab('cat', 'deep-16bit.png'));
  await syntheticImage(30, 20, 8).ensureAlpha(0.4).png().toFile(lab('dog', 'alpha.png'));
  await syntheticImage(40, 20, 9).jpeg().withMetadata({ orientation: 8 }).toFile(lab('dog', 'rotated.jpg'));
  await syntheticImage(20, 20, 10).jpeg().toFile(lab('dog', 'chien été 犬 (1).jpg'));
  // Unreadable ones, in the pool.
  const whole = await syntheticJpeg(64, 64, 11);
  fs.writeFileSync(unl('zero.jpg'), Buffer.alloc(0));
  fs.writeFileSync(unl('half.jpg'), whole.subarray(0, whole.length >> 1));
  fs.writeFileSync(unl('text.png'), 'plain text, not a picture\n');
  fs.writeFileSync(unl('huge header.png'), await pngClaiming(20_000, 20_000));
  fs.writeFileSync(unl('huge header.jpg'), await jpegClaiming(20_000, 20_000));
  // A link loop (a folder linking to its parent) and a file that vanishes once listed.
  fs.symlinkSync(unl(), unl('loop'));
  fs.writeFileSync(unl('vanishing.jpg'), await syntheticJpeg(24, 24, 12));
});
afterAll(() => {
  store?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('import of a bad-input corpus', () => {
  it('indexes every readable file, lists every other with its reason, and is not thrown off by the rest', async () => {
    const onProgress = (p: ImportProgress) => {
      // The walk has listed everything: remove one file before it is read.
      if (p.phase === 'read' && p.done === 0) fs.rmSync(unl('vanishing.jpg'), { force: true });
    };
    const r = await importDataset(
      store,
      { name: 'bad', folders: [{ path: lab(), role: 'labeled' }, { path: unl(), role: 'unlabeled' }] },
      onProgress,
    );
    const reasons = Object.fromEntries(r.skipped.map((s) => [path.relative(root, s.file), s.reason]));
    expect(reasons).toEqual({
      'unlabeled/zero.jpg': expect.stringMatching(/empty file \(0 bytes\)/),
      'unlabeled/half.jpg': expect.stringMatching(/truncated/),
      'unlabeled/text.png': expect.stringMatching(/not an image/),
      'unlabeled/huge header.png': expect.stringMatching(/decompression bomb: 20000×20000/),
      'unlabeled/huge header.jpg': expect.stringMatching(/decompression bomb: 20000×20000/),
    });
    expect(r.labeled).toEqual({ cat: 6, dog: 6 });
    expect(r.unlabeled).toBe(6);
    const img = (p: string) => store.images.getImageByPath(r.dataset.id, p);
    expect(img(lab('cat', 'one-pixel.png'))).toMatchObject({ width: 1, height: 1, status: 'ok', label: 'cat' });
    expect(img(lab('cat', 'cmyk.jpg'))).toMatchObject({ width: 30, height: 20, status: 'ok' });
    expect(img(lab('cat', 'deep-16bit.png'))).toMatchObject({ width: 30, height: 20, status: 'ok' });
    expect(img(lab('dog', 'alpha.png'))).toMatchObject({ width: 30, height: 20, status: 'ok' });
    expect(img(lab('dog', 'rotated.jpg'))).toMatchObject({ width: 20, height: 40, status: 'ok' }); // orientation 8: 90° ccw
    expect(img(lab('dog', 'chien été 犬 (1).jpg'))).toMatchObject({ status: 'ok', label: 'dog' });
    // The inputs are what the test says they are.
    expect((await sharp(lab('cat', 'deep-16bit.png')).metadata()).depth).toBe('ushort');
    expect((await sharp(lab('cat', 'cmyk.jpg')).metadata()).space).toBe('cmyk');
    // The link loop adds nothing twice; the vanished file is neither indexed nor an error.
    expect(img(unl('loop', 'u0.jpg'))).toBeNull();
    expect(img(unl('vanishing.jpg'))).toBeNull();

    // Nothing else affected: a rescan reads nothing and changes nothing.
    const again = await importDataset(store, { name: 'bad', folders: [{ path: lab(), role: 'labeled' }, { path: unl(), role: 'unlabeled' }] });
    expect(again.read).toBe(0);
    expect({ labeled: again.labeled, unlabeled: again.unlabeled, skipped: again.skipped.length }).toEqual({ labeled: r.labeled, unlabeled: 6, skipped: 5 });
  });
});
