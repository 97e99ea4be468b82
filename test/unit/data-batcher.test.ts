import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { centerView, type CropView } from '../../src/main/engine/data/augment.js';
import { batchCount, batches, epochOrder, type Batch, type BatchEvent, type BatchItem } from '../../src/main/engine/data/batcher.js';
import { trainSide } from '../../src/main/engine/data/decode.js';
import { ImageCache, type DecodeMode } from '../../src/main/engine/data/image-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'distill-batcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIZE = 8;
const SIDE = trainSide(SIZE);

/** Item i decodes to a square whose every byte is i (so each batch row reveals its item), with a gradient in channel 1. */
function fakeCache(opts: { delayMs?: number; log?: string[]; concurrency?: number } = {}): ImageCache {
  return new ImageCache({
    spillDir: dir,
    concurrency: opts.concurrency ?? 2,
    vipsThreads: null,
    decoder: async (path: string, size: number, mode: DecodeMode) => {
      opts.log?.push(path);
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 0));
      if (path.includes('broken')) throw new Error(`cannot decode image ${path}: bad data`);
      const side = mode === 'train' ? trainSide(size) : size;
      const v = Number(/(\d+)/.exec(path)![1]);
      const out = new Uint8Array(side * side * 3).fill(v);
      for (let p = 0; p < side * side; p++) out[p * 3 + 1] = (p * 7) & 0xff;
      return out;
    },
  });
}

const items: BatchItem[] = Array.from({ length: 23 }, (_, i) => ({ key: `k${i}`, path: `/img/${i}.jpg`, label: i % 3 === 0 ? null : i % 2 }));

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

const augment = { flip: true, cropScaleMin: 0.4 };

describe('batcher', () => {
  it('covers every item exactly once per epoch, keeps the partial last batch, rows match their items', async () => {
    const cache = fakeCache();
    const bs = await collect(batches({ items, size: SIZE, batchSize: 5, seed: 1, epoch: 0, cache }));
    expect(bs.map((b) => b.indices.length)).toEqual([5, 5, 5, 5, 3]);
    expect(bs.length).toBe(batchCount(23, 5));
    expect(bs.flatMap((b) => b.indices).sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
    const per = SIZE * SIZE * 3;
    for (const b of bs) {
      expect(b.shape).toEqual([b.indices.length, SIZE, SIZE, 3]);
      expect(b.x.length).toBe(b.indices.length * per);
      expect(b.labels).toEqual(b.indices.map((i) => items[i]!.label));
      expect(b.keys).toEqual(b.indices.map((i) => items[i]!.key));
      b.indices.forEach((i, r) => {
        expect(b.x[r * per]).toBe(i); // channel 0 is the item's id everywhere
        expect(b.x[r * per + per - 3]).toBe(i);
      });
      expect(b.views.every((v) => JSON.stringify(v) === JSON.stringify(centerView(SIZE)))).toBe(true);
    }
    const dropped = await collect(batches({ items, size: SIZE, batchSize: 5, seed: 1, epoch: 0, cache, dropLast: true }));
    expect(dropped.map((b) => b.indices.length)).toEqual([5, 5, 5, 5]);
    expect(cache.stats().decodes).toBe(23); // the second pass came from the cache
    await cache.close();
  });

  it('order depends on seed and epoch and is reproducible; shuffle: false keeps list order', async () => {
    expect(epochOrder(50, 1, 0)).toEqual(epochOrder(50, 1, 0));
    expect(epochOrder(50, 1, 0)).not.toEqual(epochOrder(50, 2, 0));
    expect(epochOrder(50, 1, 0)).not.toEqual(epochOrder(50, 1, 1));
    expect(epochOrder(5, 1, 0, false)).toEqual([0, 1, 2, 3, 4]);
    const cache = fakeCache();
    const run = (seed: number, epoch: number) => collect(batches({ items, size: SIZE, batchSize: 4, seed, epoch, augment, cache }));
    const a = await run(3, 2);
    const b = await run(3, 2);
    expect(a.map((x) => x.indices)).toEqual(b.map((x) => x.indices));
    a.forEach((batch, k) => expect(Buffer.from(batch.x.buffer).equals(Buffer.from(b[k]!.x.buffer))).toBe(true));
    expect(a.flatMap((x) => x.indices)).toEqual(epochOrder(23, 3, 2));
    expect((await run(4, 2)).flatMap((x) => x.indices)).not.toEqual(a.flatMap((x) => x.indices));
    expect((await run(3, 3)).flatMap((x) => x.indices)).not.toEqual(a.flatMap((x) => x.indices));
    const plain = await collect(batches({ items, size: SIZE, batchSize: 10, seed: 3, epoch: 2, shuffle: false, cache }));
    expect(plain.flatMap((x) => x.indices)).toEqual(items.map((_, i) => i));
    await cache.close();
  });

  it('resumes an epoch at a batch with the same order and pixels', async () => {
    const cache = fakeCache();
    const full = await collect(batches({ items, size: SIZE, batchSize: 4, seed: 9, epoch: 1, augment, cache }));
    const tail = await collect(batches({ items, size: SIZE, batchSize: 4, seed: 9, epoch: 1, augment, cache, startBatch: 3 }));
    expect(tail.map((b) => b.batchIndex)).toEqual([3, 4, 5]);
    tail.forEach((b, j) => {
      expect(b.indices).toEqual(full[j + 3]!.indices);
      expect(Array.from(b.x)).toEqual(Array.from(full[j + 3]!.x));
    });
    await cache.close();
  });

  it('prefetches: batch k+1 is being decoded before the caller receives batch k', async () => {
    const log: string[] = [];
    const cache = fakeCache({ delayMs: 2, log, concurrency: 6 }); // a whole batch may decode at once
    const events: string[] = [];
    const onEvent = (e: BatchEvent) => events.push(`${e.type}:${e.batch}`);
    let k = 0;
    const order = epochOrder(items.length, 5, 0);
    for await (const b of batches({ items, size: SIZE, batchSize: 6, seed: 5, epoch: 0, augment, cache, prefetch: 1, onEvent })) {
      expect(b.batchIndex).toBe(k);
      events.push(`consume:${k}`);
      if (k + 1 < 4) {
        // Decodes of the next batch are already running while this one is in the caller's hands.
        const nextPaths = order.slice((k + 1) * 6, (k + 2) * 6).map((i) => items[i]!.path);
        expect(nextPaths.every((p) => log.includes(p))).toBe(true);
      }
      k++;
    }
    expect(k).toBe(4);
    // With depth 1, exactly one batch is ahead: k+1 starts right before k is handed over.
    expect(events).toEqual([
      'prepare-start:0', 'prepare-end:0', 'prepare-start:1', 'yield:0', 'consume:0',
      'prepare-end:1', 'prepare-start:2', 'yield:1', 'consume:1',
      'prepare-end:2', 'prepare-start:3', 'yield:2', 'consume:2',
      'prepare-end:3', 'yield:3', 'consume:3',
    ]);
    await cache.close();
  });

  it('keeps `prefetch` batches in flight', async () => {
    const cache = fakeCache();
    const events: string[] = [];
    const it = batches({ items, size: SIZE, batchSize: 3, seed: 0, epoch: 0, cache, prefetch: 3, onEvent: (e) => events.push(`${e.type}:${e.batch}`) });
    const first = await it.next();
    expect(first.done).toBe(false);
    const started = events.filter((e) => e.startsWith('prepare-start')).length;
    const yielded = events.filter((e) => e.startsWith('yield')).length;
    expect(started - yielded).toBe(3);
    await it.return(undefined); // breaking out early is allowed
    await cache.close();
  });

  it('names the file when a decode fails, or skips it and reports it', async () => {
    const cache = fakeCache();
    const withBad = [...items.slice(0, 6), { key: 'bad', path: '/img/broken-99.jpg', label: 1 }];
    await expect(collect(batches({ items: withBad, size: SIZE, batchSize: 4, seed: 0, epoch: 0, cache }))).rejects.toThrow(
      'cannot decode image /img/broken-99.jpg: bad data',
    );
    const bs = await collect(batches({ items: withBad, size: SIZE, batchSize: 4, seed: 0, epoch: 0, cache, onDecodeError: 'skip' }));
    expect(bs.flatMap((b) => b.indices).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(bs.flatMap((b) => b.failed)).toEqual([{ index: 6, key: 'bad', path: '/img/broken-99.jpg', error: 'cannot decode image /img/broken-99.jpg: bad data' }]);
    const withFailure = bs.find((b) => b.failed.length > 0)!;
    expect(withFailure.shape[0]).toBe(withFailure.indices.length);
    await cache.close();
  });

  it('uses augmented views deterministically, or a caller-supplied view', async () => {
    const cache = fakeCache();
    const [b] = await collect(batches({ items: items.slice(0, 4), size: SIZE, batchSize: 4, seed: 2, epoch: 0, augment, cache }));
    expect(new Set(b!.views.map((v) => JSON.stringify(v))).size).toBe(4);
    const fixed: CropView = { x: 0, y: 0, w: 1, h: 1, flip: true };
    const calls: string[] = [];
    const [c] = await collect(
      batches({ items: items.slice(0, 2), size: SIZE, batchSize: 2, seed: 2, epoch: 7, cache, view: (i, e) => (calls.push(`${i}@${e}`), fixed) }),
    );
    expect(c!.views).toEqual([fixed, fixed]);
    expect(calls.sort()).toEqual(['0@7', '1@7']);
    // Mirrored rows: output pixel x of the flipped view is pixel SIZE-1-x of the unflipped one.
    const [u] = await collect(batches({ items: items.slice(0, 1), size: SIZE, batchSize: 1, seed: 2, epoch: 7, cache, view: () => ({ ...fixed, flip: false }) }));
    for (let x = 0; x < SIZE; x++) expect(c!.x[x * 3 + 1]).toBe(u!.x[(SIZE - 1 - x) * 3 + 1]);
    expect(c!.x[1]).not.toBe(u!.x[1]);
    expect(SIDE).toBeGreaterThan(SIZE);
    await cache.close();
  });

  it('rejects bad options with a clear message', async () => {
    await expect(collect(batches({ items, size: SIZE, batchSize: 0, seed: 0, epoch: 0, cache: fakeCache() }))).rejects.toThrow(/batchSize/);
  });
});
