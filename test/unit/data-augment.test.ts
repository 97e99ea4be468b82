import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  centerView,
  randomResizedCropView,
  renderView,
  trainingView,
  type AugmentOptions,
  type CropView,
} from '../../src/main/engine/data/augment.js';
import { decodeForEval, decodeForTraining, trainSide } from '../../src/main/engine/data/decode.js';
import { Rng, hashSeed, shuffleInPlace } from '../../src/main/engine/data/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'distill-augment-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Gray square (all channels equal) from rows of values. */
function graySquare(rows: number[][]): Uint8Array {
  const side = rows.length;
  const out = new Uint8Array(side * side * 3);
  rows.forEach((row, y) => row.forEach((v, x) => out.fill(v, (y * side + x) * 3, (y * side + x) * 3 + 3)));
  return out;
}

/** Channel 0 of an HWC float image as rows. */
function channel0(img: Float32Array, size: number): number[][] {
  return Array.from({ length: size }, (_, y) => Array.from({ length: size }, (_, x) => img[(y * size + x) * 3]!));
}

const opts: AugmentOptions = { flip: true, cropScaleMin: 0.3 };

describe('rng', () => {
  it('reproduces a stream from its seed and separates nearby seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Rng(43).next()).not.toBe(xs[0]);
    expect(hashSeed(1, 2, 3)).not.toBe(hashSeed(1, 3, 2));
    expect(hashSeed(0, 1)).not.toBe(hashSeed(0, 2));
    expect(hashSeed(2 ** 32 + 5)).not.toBe(hashSeed(5));
  });

  it('shuffles into a permutation', () => {
    const p = shuffleInPlace(Array.from({ length: 100 }, (_, i) => i), new Rng(1));
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('bilinear renderView', () => {
  it('matches a hand-computed 2×2 → 4×4 upsampling', () => {
    const src = graySquare([
      [0, 100],
      [200, 40],
    ]);
    const out = new Float32Array(4 * 4 * 3);
    renderView(src, 2, { x: 0, y: 0, w: 1, h: 1, flip: false }, 4, out);
    // Sample positions (ox + 0.5)·0.5 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamp, ¼, ¾, clamp.
    const expected = [
      [0, 25, 75, 100],
      [50, 58.75, 76.25, 85],
      [150, 126.25, 78.75, 55],
      [200, 160, 80, 40],
    ];
    expect(channel0(out, 4)).toEqual(expected);
    for (let p = 0; p < 16; p++) {
      expect(out[p * 3 + 1]).toBe(out[p * 3]);
      expect(out[p * 3 + 2]).toBe(out[p * 3]);
    }
    renderView(src, 2, { x: 0, y: 0, w: 1, h: 1, flip: true }, 4, out);
    expect(channel0(out, 4)).toEqual(expected.map((r) => [...r].reverse()));
  });

  it('reproduces a linear ramp exactly at fractional crop positions', () => {
    // Bilinear interpolation is exact on f(x, y) = 2x + 7y + 5, so any interior crop is predictable.
    const side = 20;
    const src = graySquare(Array.from({ length: side }, (_, y) => Array.from({ length: side }, (_, x) => 2 * x + 7 * y + 5)));
    const view: CropView = { x: 0.137, y: 0.211, w: 0.53, h: 0.41, flip: false };
    const size = 9;
    const out = new Float32Array(size * size * 3);
    renderView(src, side, view, size, out);
    for (let oy = 0; oy < size; oy++) {
      for (let ox = 0; ox < size; ox++) {
        const sx = view.x * side + ((ox + 0.5) * view.w * side) / size - 0.5;
        const sy = view.y * side + ((oy + 0.5) * view.h * side) / size - 0.5;
        expect(out[(oy * size + ox) * 3]).toBeCloseTo(2 * sx + 7 * sy + 5, 3);
      }
    }
  });

  it('writes into the given batch slot only', () => {
    const src = graySquare([
      [10, 10],
      [10, 10],
    ]);
    const out = new Float32Array(3 * 2 * 2 * 3).fill(-1);
    renderView(src, 2, { x: 0, y: 0, w: 1, h: 1, flip: false }, 2, out, 12);
    expect(Array.from(out.subarray(0, 12)).every((v) => v === -1)).toBe(true);
    expect(Array.from(out.subarray(12, 24)).every((v) => v === 10)).toBe(true);
    expect(Array.from(out.subarray(24)).every((v) => v === -1)).toBe(true);
  });
});

describe('random resized crop', () => {
  it('stays inside the square with area and aspect in range; flips about half the time', () => {
    const rng = new Rng(7);
    let flips = 0;
    const bad: CropView[] = [];
    for (let i = 0; i < 2000; i++) {
      const v = randomResizedCropView(rng, opts);
      const ok =
        v.x >= 0 &&
        v.y >= 0 &&
        v.x + v.w <= 1 + 1e-12 &&
        v.y + v.h <= 1 + 1e-12 &&
        v.w * v.h >= 0.3 - 1e-12 &&
        v.w / v.h >= 3 / 4 - 1e-9 &&
        v.w / v.h <= 4 / 3 + 1e-9;
      if (!ok) bad.push(v);
      if (v.flip) flips++;
    }
    expect(bad).toEqual([]);
    expect(flips).toBeGreaterThan(900);
    expect(flips).toBeLessThan(1100);
    expect(randomResizedCropView(new Rng(1), { flip: false, cropScaleMin: 0.3 }).flip).toBe(false);
  });

  it('is deterministic in (seed, epoch, index) and changes with each', () => {
    const v = trainingView(3, 1, 17, opts);
    expect(trainingView(3, 1, 17, opts)).toEqual(v);
    expect(trainingView(4, 1, 17, opts)).not.toEqual(v);
    expect(trainingView(3, 2, 17, opts)).not.toEqual(v);
    expect(trainingView(3, 1, 18, opts)).not.toEqual(v);
  });

  it('renders identical bytes for the same seed and different bytes for another', () => {
    const side = trainSide(24);
    const src = new Uint8Array(side * side * 3);
    for (let i = 0; i < src.length; i++) src[i] = (i * 37 + (i >> 4)) & 0xff;
    const render = (seed: number) => {
      const out = new Float32Array(24 * 24 * 3);
      renderView(src, side, trainingView(seed, 0, 5, opts), 24, out);
      return Buffer.from(out.buffer);
    };
    expect(render(11).equals(render(11))).toBe(true);
    expect(render(11).equals(render(12))).toBe(false);
  });

  it('with scale 1, square aspect and no flip takes the whole stored square', () => {
    const v = randomResizedCropView(new Rng(9), { flip: false, cropScaleMin: 1, aspectMin: 1, aspectMax: 1 });
    expect(v).toEqual({ x: 0, y: 0, w: 1, h: 1, flip: false });
  });
});

describe('center view', () => {
  it('renders exactly the eval decode (short side ·1.143, center crop)', async () => {
    const file = join(dir, 'photo.jpg');
    const w = 75;
    const h = 60;
    const buf = Buffer.alloc(w * h * 3);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 29 + (i >> 3)) & 0xff;
    await sharp(buf, { raw: { width: w, height: h, channels: 3 } }).jpeg().toFile(file);
    const size = 40;
    const square = await decodeForTraining(file, size);
    const out = new Float32Array(size * size * 3);
    renderView(square, trainSide(size), centerView(size), size, out);
    const ev = await decodeForEval(file, size);
    expect(Array.from(out)).toEqual(Array.from(ev));
  });
});
