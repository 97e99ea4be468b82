// Photo-like 200×200 JPEGs (generated) through the training decoder, checked against an independent
// box-filter reference; the real cat/dog photos too where ../shared is beside the checkout.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeForEval, decodeForTraining, trainSide } from '../../src/main/engine/data/decode.js';
import { syntheticJpeg } from '../helpers/synthetic-images.js';
import { describeWithShared } from '../shared-data.js';

/** Independent reference: full-resolution RGB box-filtered down to side×side in plain JS. */
async function boxDownscale(file: string, side: number): Promise<Float64Array> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  expect(info.width).toBe(info.height); // catdog photos are square, so no crop is involved
  const n = info.width;
  const out = new Float64Array(side * side * 3);
  for (let oy = 0; oy < side; oy++) {
    const y0 = (oy * n) / side;
    const y1 = ((oy + 1) * n) / side;
    for (let ox = 0; ox < side; ox++) {
      const x0 = (ox * n) / side;
      const x1 = ((ox + 1) * n) / side;
      const acc = [0, 0, 0];
      let wsum = 0;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const w = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
          for (let c = 0; c < 3; c++) acc[c]! += w * data[(y * n + x) * info.channels + c]!;
          wsum += w;
        }
      }
      for (let c = 0; c < 3; c++) out[(oy * side + ox) * 3 + c] = acc[c]! / wsum;
    }
  }
  return out;
}

async function checkDecode(file: string): Promise<void> {
  const size = 96;
  const side = trainSide(size);
  const img = await decodeForTraining(file, size);
  expect(img.length).toBe(side * side * 3);
  const ref = await boxDownscale(file, side);
  let mad = 0;
  for (let i = 0; i < img.length; i++) mad += Math.abs(img[i]! - ref[i]!);
  mad /= img.length;
  // Lanczos vs box differ a little at edges; a wrong orientation, crop or channel order is far off (tens).
  expect(mad).toBeLessThan(4);

  const ev = await decodeForEval(file, size);
  expect(ev.length).toBe(size * size * 3);
}

const dir = mkdtempSync(join(tmpdir(), 'distill-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('decode on generated 200×200 JPEGs', () => {
  it.each([11, 12, 13, 14])('seed %i decodes to the stored square and matches a box-filtered reference', async (seed) => {
    const file = join(dir, `img${seed}.jpg`);
    writeFileSync(file, await syntheticJpeg(200, 200, seed));
    await checkDecode(file);
  });

  it('a wrong channel order would be caught: the reference differs from a BGR decode by tens', async () => {
    const file = join(dir, 'bgr.jpg');
    writeFileSync(file, await syntheticJpeg(200, 200, 21));
    const img = await decodeForTraining(file, 96);
    const ref = await boxDownscale(file, trainSide(96));
    let mad = 0;
    for (let i = 0; i < img.length; i += 3) mad += Math.abs(img[i + 2]! - ref[i]!) + Math.abs(img[i]! - ref[i + 2]!);
    expect(mad / ((img.length / 3) * 2)).toBeGreaterThan(10);
  });
});

describeWithShared('decode on the real catdog JPEGs', (CATDOG) => {
  const files = CATDOG
    ? [
        ...readdirSync(join(CATDOG, 'labeled/cat')).slice(0, 3).map((f) => join(CATDOG, 'labeled/cat', f)),
        ...readdirSync(join(CATDOG, 'labeled/dog')).slice(0, 3).map((f) => join(CATDOG, 'labeled/dog', f)),
      ]
    : ['(absent)'];
  it.each(files)('%s decodes to the stored square and matches a box-filtered reference', checkDecode);
});
