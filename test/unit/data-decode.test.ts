import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { centerCrop, centerOffset, decodeForEval, decodeForTraining, trainSide } from '../../src/main/engine/data/decode.js';

const dir = mkdtempSync(join(tmpdir(), 'distill-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** RGB of pixel (x, y) in an HWC square of side `side`. */
function px(img: Uint8Array, side: number, x: number, y: number): [number, number, number] {
  const o = (y * side + x) * 3;
  return [img[o]!, img[o + 1]!, img[o + 2]!];
}

function near(actual: number[], expected: number[], tol: number): void {
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `channel ${i}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tol));
}

/** Raw RGB image of w×h from a per-pixel function. */
function rawImage(w: number, h: number, f: (x: number, y: number) => [number, number, number]): sharp.Sharp {
  const buf = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) buf.set(f(x, y), (y * w + x) * 3);
  return sharp(buf, { raw: { width: w, height: h, channels: 3 } });
}

describe('decodeForTraining', () => {
  it('stores a square of side round(size·1.143)', () => {
    expect(trainSide(96)).toBe(110);
    expect(trainSide(224)).toBe(256);
    expect(trainSide(32)).toBe(37);
    expect(centerOffset(110, 96)).toBe(7);
  });

  it('applies EXIF orientation 6 (stored sideways, shown upright)', async () => {
    // Stored pixels: top half red, bottom half blue. Orientation 6 = rotate 90° clockwise to display,
    // so the upright image has blue on the left and red on the right.
    const file = join(dir, 'rot6.jpg');
    await rawImage(64, 64, (_x, y) => (y < 32 ? [255, 0, 0] : [0, 0, 255]))
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toFile(file);
    expect((await sharp(file).metadata()).orientation).toBe(6);
    const size = 32;
    const side = trainSide(size);
    const img = await decodeForTraining(file, size);
    expect(img.length).toBe(side * side * 3);
    const mid = side >> 1;
    near(px(img, side, 3, mid), [0, 0, 255], 40);
    near(px(img, side, side - 4, mid), [255, 0, 0], 40);
    // Top and bottom of one column agree: the split is vertical, not horizontal.
    near(px(img, side, 3, 3), px(img, side, 3, side - 4), 40);
  });

  it('flattens alpha on white', async () => {
    const file = join(dir, 'alpha.png');
    const w = 40;
    const buf = Buffer.alloc(w * w * 4);
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 4;
        if (x < w / 2) buf.set([0, 0, 0, 0], o); // fully transparent black → white
        else if (y < w / 2) buf.set([255, 0, 0, 255], o); // opaque red stays red
        else buf.set([0, 0, 0, 128], o); // half-transparent black → mid gray
      }
    }
    await sharp(buf, { raw: { width: w, height: w, channels: 4 } }).png().toFile(file);
    const size = 32;
    const side = trainSide(size);
    const img = await decodeForTraining(file, size);
    expect(img.length).toBe(side * side * 3);
    near(px(img, side, 3, 3), [255, 255, 255], 2);
    near(px(img, side, side - 4, 3), [255, 0, 0], 2);
    // 255·(1 − 128/255) = 127
    near(px(img, side, side - 4, side - 4), [127, 127, 127], 3);
  });

  it('expands a one-channel grayscale JPEG to 3 equal channels', async () => {
    const file = join(dir, 'gray.jpg');
    await rawImage(50, 50, (x) => [x * 5, x * 5, x * 5]).toColourspace('b-w').jpeg().toFile(file);
    const meta = await sharp(file).metadata();
    expect(meta.channels).toBe(1);
    const side = trainSide(40);
    const img = await decodeForTraining(file, 40);
    expect(img.length).toBe(side * side * 3);
    for (let p = 0; p < side * side; p++) {
      expect(img[p * 3 + 1]).toBe(img[p * 3]);
      expect(img[p * 3 + 2]).toBe(img[p * 3]);
    }
    // The horizontal ramp survives: right side brighter than left.
    expect(px(img, side, side - 3, 20)[0] - px(img, side, 2, 20)[0]).toBeGreaterThan(150);
  });

  it('converts CMYK to sRGB', async () => {
    const file = join(dir, 'cmyk.jpg');
    await rawImage(40, 40, () => [20, 180, 40]).toColourspace('cmyk').jpeg({ quality: 95 }).toFile(file);
    expect((await sharp(file).metadata()).space).toBe('cmyk');
    const side = trainSide(32);
    const img = await decodeForTraining(file, 32);
    expect(img.length).toBe(side * side * 3);
    const [r, g, b] = px(img, side, 18, 18);
    expect(g).toBeGreaterThan(r + 80);
    expect(g).toBeGreaterThan(b + 80);
  });

  it('resizes the short side and center-crops the long side', async () => {
    // 120×40: left third red, middle third green, right third blue; the kept square is the middle.
    const file = join(dir, 'wide.png');
    await rawImage(120, 40, (x) => (x < 40 ? [255, 0, 0] : x < 80 ? [0, 255, 0] : [0, 0, 255])).png().toFile(file);
    const side = trainSide(32);
    const img = await decodeForTraining(file, 32);
    for (const [x, y] of [[2, 2], [side - 3, 2], [2, side - 3], [side - 3, side - 3], [18, 18]] as const) {
      near(px(img, side, x, y), [0, 255, 0], 10);
    }
  });

  it('upscales images smaller than the target', async () => {
    const file = join(dir, 'tiny.png');
    await rawImage(4, 4, () => [9, 99, 199]).png().toFile(file);
    const img = await decodeForTraining(file, 64);
    expect(img.length).toBe(trainSide(64) ** 2 * 3);
    near(px(img, trainSide(64), 30, 30), [9, 99, 199], 1);
  });

  it('names the file and the problem when decoding fails', async () => {
    const missing = join(dir, 'nope.jpg');
    await expect(decodeForTraining(missing, 32)).rejects.toThrow(/nope\.jpg.*(missing|exist)/i);
    const text = join(dir, 'notes.jpg');
    writeFileSync(text, 'this is not an image');
    await expect(decodeForTraining(text, 32)).rejects.toThrow(/notes\.jpg.*unsupported image format/i);
    const good = join(dir, 'good.jpg');
    await rawImage(64, 64, (x, y) => [x * 4, y * 4, 128]).jpeg().toFile(good);
    const bytes = readFileSync(good);
    const cut = join(dir, 'truncated.jpg');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(decodeForTraining(cut, 32)).rejects.toThrow(/truncated\.jpg/);
    await expect(decodeForTraining(good, 0)).rejects.toThrow(/size/);
  });
});

describe('decodeForEval', () => {
  it('is the center size×size window of the training square, byte for byte', async () => {
    const file = join(dir, 'eval.jpg');
    await rawImage(90, 70, (x, y) => [(x * 7) % 256, (y * 11) % 256, (x * y) % 256]).jpeg().toFile(file);
    const size = 48;
    const side = trainSide(size);
    const square = await decodeForTraining(file, size);
    const ev = await decodeForEval(file, size);
    expect(ev.length).toBe(size * size * 3);
    const off = centerOffset(side, size);
    for (const [x, y] of [[0, 0], [size - 1, 0], [0, size - 1], [size - 1, size - 1], [17, 29]] as const) {
      expect(px(ev, size, x, y)).toEqual(px(square, side, x + off, y + off));
    }
    expect(Buffer.from(centerCrop(square, side, size)).equals(Buffer.from(ev))).toBe(true);
  });
});
