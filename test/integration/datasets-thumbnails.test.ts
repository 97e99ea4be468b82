import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThumbnailCache, thumbnailsDir } from '../../src/main/datasets/thumbnails.js';

let dir: string;
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-thumbs-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ThumbnailCache', () => {
  it('makes a 128 px RGB JPEG once per content hash, applying EXIF rotation and flattening alpha', async () => {
    const cache = new ThumbnailCache(thumbnailsDir(path.join(dir, 'home')));
    // 400×200 red, EXIF orientation 6: displayed 200×400.
    const rotated = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#ff0000' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const file = path.join(dir, 'r.jpg');
    fs.writeFileSync(file, rotated);
    const h = sha(rotated);
    const out = await cache.get(file, h);
    expect(out).toBe(path.join(dir, 'home', 'thumbs', h.slice(0, 2), `${h}.jpg`));
    const meta = await sharp(out).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 64, height: 128, channels: 3 });
    expect(cache.has(h)).toBe(true);

    // Second request: served from the cache, file untouched even if the source is gone.
    const mtime = fs.statSync(out).mtimeMs;
    fs.rmSync(file);
    expect(await cache.get(file, h)).toBe(out);
    expect(fs.statSync(out).mtimeMs).toBe(mtime);

    // Transparent PNG → white, CMYK → 3-channel sRGB.
    const clear = await sharp({ create: { width: 10, height: 10, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    fs.writeFileSync(path.join(dir, 'clear.png'), clear);
    const px = await sharp(await cache.get(path.join(dir, 'clear.png'), sha(clear))).raw().toBuffer();
    expect(Math.min(...px)).toBeGreaterThan(245);
    const cmyk = await sharp({ create: { width: 30, height: 30, channels: 3, background: '#3366cc' } }).toColourspace('cmyk').jpeg().toBuffer();
    fs.writeFileSync(path.join(dir, 'cmyk.jpg'), cmyk);
    const cm = await sharp(await cache.get(path.join(dir, 'cmyk.jpg'), sha(cmyk))).metadata();
    expect(cm).toMatchObject({ space: 'srgb', channels: 3 });
  });

  it('shares one job among concurrent requests and refuses non-hash keys', async () => {
    const cache = new ThumbnailCache(path.join(dir, 'c2'), { concurrency: 1 });
    const img = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#00ff00' } }).png().toBuffer();
    const file = path.join(dir, 'g.png');
    fs.writeFileSync(file, img);
    const outs = await Promise.all(Array.from({ length: 5 }, () => cache.get(file, sha(img))));
    expect(new Set(outs).size).toBe(1);
    expect(fs.readdirSync(path.dirname(outs[0]!))).toEqual([path.basename(outs[0]!)]); // no temp files left
    expect(() => cache.pathFor('../../etc/passwd')).toThrow(/not a content hash/);
    expect(cache.has('nope')).toBe(false);
  });
});
