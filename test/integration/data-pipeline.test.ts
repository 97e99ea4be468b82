// The whole input pipeline on photo-like JPEGs generated in the cat/dog layout: folder → cache (with
// spill) → views → batches.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batches, type Batch } from '../../src/main/engine/data/batcher.js';
import { decodeForEval, trainSide } from '../../src/main/engine/data/decode.js';
import { itemsFromFolder } from '../../src/main/engine/data/folder-items.js';
import { ImageCache } from '../../src/main/engine/data/image-cache.js';
import { measurePipeline } from '../../src/main/engine/data/measure.js';
import { writeCatdogLike } from '../helpers/synthetic-images.js';

const spillDir = mkdtempSync(join(tmpdir(), 'distill-pipeline-'));
afterAll(() => rmSync(spillDir, { recursive: true, force: true }));

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('input pipeline on a generated cat/dog-shaped set', async () => {
  // 15 cats and 15 dogs (200×200 like the shared photos); the test uses 12 of each.
  const set = await writeCatdogLike(join(spillDir, 'set'), { labeled: 15, unlabeled: 0, val: 0 }, 200);
  const { items: all, classes } = await itemsFromFolder(set.labeled);
  const items = [...all.filter((i) => i.label === 0).slice(0, 12), ...all.filter((i) => i.label === 1).slice(0, 12)];

  it('lists class folders with labels in sorted order', () => {
    expect(classes).toEqual(['cat', 'dog']);
    expect(all.length).toBe(30);
    expect(all.filter((i) => i.label === 1).length).toBe(15);
    expect(all.find((i) => i.key === 'dog/dog.0.jpg')?.label).toBe(1);
  });

  it('serves eval views equal to decodeForEval and augmented epochs from a spilled cache without re-decoding', async () => {
    const size = 48;
    // Room for a third of the images: the rest go to the spill file.
    const cache = new ImageCache({ spillDir, memoryBytes: 8 * trainSide(size) ** 2 * 3 });
    const per = size * size * 3;
    const evalBatches = await collect(batches({ items, size, batchSize: 10, seed: 0, epoch: 0, shuffle: false, cache }));
    expect(evalBatches.map((b) => b.indices.length)).toEqual([10, 10, 4]);
    for (const b of evalBatches) {
      for (const r of [0, b.indices.length - 1]) {
        const ref = await decodeForEval(items[b.indices[r]!]!.path, size);
        expect(Array.from(b.x.subarray(r * per, (r + 1) * per))).toEqual(Array.from(ref));
      }
    }
    const st = cache.stats();
    expect(st).toMatchObject({ decodes: 24, memoryEntries: 8, diskEntries: 16 });

    const augment = { flip: true, cropScaleMin: 0.35 };
    const e1 = await collect(batches({ items, size, batchSize: 8, seed: 3, epoch: 1, augment, cache }));
    const e1again = await collect(batches({ items, size, batchSize: 8, seed: 3, epoch: 1, augment, cache }));
    expect(cache.stats().decodes).toBe(24);
    expect(cache.stats().diskHits).toBeGreaterThanOrEqual(32);
    expect(e1.flatMap((b) => b.indices).sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
    e1.forEach((b, k) => {
      expect(Buffer.from(b.x.buffer).equals(Buffer.from(e1again[k]!.x.buffer))).toBe(true);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of b.x) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(255);
      expect(hi - lo).toBeGreaterThan(100); // real photo content, not a blank
    });
    await cache.close();
  });

  it('measures pipeline throughput, cold then warm', async () => {
    const m = await measurePipeline(items, 32, 8, 1, { cacheOptions: { spillDir } });
    expect(m.decodes).toBe(24);
    expect(m.images).toBeGreaterThanOrEqual(24);
    expect(m.coldImgPerSec).toBeGreaterThan(0);
    expect(m.imgPerSec).toBeCloseTo(m.images / m.seconds, 6);
    expect(m).toMatchObject({ size: 32, batch: 8 });
  });
});
