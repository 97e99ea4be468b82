// Photo-like test images made on the fly with sharp: smooth colour fields that span the full 0–255
// range, different for every seed (so content hashes differ), in any format sharp writes.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** Raw RGB pixels of a width×height picture drawn from `seed`. */
export function syntheticPixels(width: number, height: number, seed: number): Buffer {
  const buf = Buffer.alloc(width * height * 3);
  const f1 = 0.05 + (seed % 7) * 0.011;
  const f2 = 0.04 + (seed % 5) * 0.013;
  const f3 = 0.03 + (seed % 3) * 0.017;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      buf[o] = Math.round(127.5 + 127.5 * Math.sin(x * f1 + seed));
      buf[o + 1] = Math.round(127.5 + 127.5 * Math.cos(y * f2 + seed * 0.7));
      buf[o + 2] = Math.round(127.5 + 127.5 * Math.sin((x + y) * f3 + seed * 1.3));
    }
  }
  return buf;
}

export function syntheticImage(width: number, height: number, seed: number): sharp.Sharp {
  return sharp(syntheticPixels(width, height, seed), { raw: { width, height, channels: 3 } });
}

export async function syntheticJpeg(width: number, height: number, seed: number): Promise<Buffer> {
  return syntheticImage(width, height, seed).jpeg({ quality: 90 }).toBuffer();
}

/**
 * A cat/dog-shaped image set under `root`: `labeled/{cat,dog}`, `unlabeled/`, `val/{cat,dog}`, named
 * like the shared set (`cat.0.jpg`, `u0.jpg`…), every image distinct. Returns the folder paths.
 */
export async function writeCatdogLike(
  root: string,
  counts: { labeled: number; unlabeled: number; val: number },
  side = 64,
): Promise<{ labeled: string; unlabeled: string; val: string }> {
  let seed = 1;
  const write = async (dir: string, name: string): Promise<void> => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), await syntheticJpeg(side, side, seed++));
  };
  const out = { labeled: path.join(root, 'labeled'), unlabeled: path.join(root, 'unlabeled'), val: path.join(root, 'val') };
  for (const cls of ['cat', 'dog']) {
    for (let i = 0; i < counts.labeled; i++) await write(path.join(out.labeled, cls), `${cls}.${i}.jpg`);
    for (let i = 0; i < counts.val; i++) await write(path.join(out.val, cls), `${cls}.${1000 + i}.jpg`);
  }
  for (let i = 0; i < counts.unlabeled; i++) await write(out.unlabeled, `u${i}.jpg`);
  return out;
}
