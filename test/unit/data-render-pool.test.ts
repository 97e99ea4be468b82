import { afterAll, describe, expect, it } from 'vitest';
import { trainingView } from '../../src/main/engine/data/augment.js';
import { batches, type Batch } from '../../src/main/engine/data/batcher.js';
import { trainSide } from '../../src/main/engine/data/decode.js';
import { ImageCache } from '../../src/main/engine/data/image-cache.js';
import { RenderPool } from '../../src/main/engine/data/render-pool.js';
import { renderView } from '../../src/main/engine/data/render.js';

const pool = new RenderPool(2);
afterAll(() => pool.close());

function square(side: number, seed: number): Uint8Array {
  const out = new Uint8Array(side * side * 3);
  for (let i = 0; i < out.length; i++) out[i] = (i * 31 + seed * 17 + (i >> 7)) & 0xff;
  return out;
}

describe('RenderPool', () => {
  it('renders on a worker exactly what renderView renders here', async () => {
    const size = 20;
    const side = trainSide(size);
    const sources = [0, 1, 2, 3, 4].map((s) => square(side, s));
    const views = sources.map((_, i) => trainingView(5, 1, i, { flip: true, cropScaleMin: 0.2 }));
    const [x, y] = await Promise.all([pool.render(sources, side, views, size), pool.render(sources.slice(0, 2), side, views.slice(0, 2), size)]);
    const per = size * size * 3;
    const local = new Float32Array(sources.length * per);
    sources.forEach((s, r) => renderView(s, side, views[r]!, size, local, r * per));
    expect(Buffer.from(x.buffer).equals(Buffer.from(local.buffer))).toBe(true);
    expect(Buffer.from(y.buffer).equals(Buffer.from(local.buffer, 0, 2 * per * 4))).toBe(true);
  });

  it('reports a bad job as an error and keeps working', async () => {
    const view = { x: 0, y: 0, w: 1, h: 1, flip: false };
    await expect(pool.render([new Uint8Array(10)], 8, [view], 4)).rejects.toThrow(/expected 8x8x3 bytes/);
    const ok = await pool.render([square(8, 1)], 8, [view], 4);
    expect(ok.length).toBe(4 * 4 * 3);
  });

  it('gives the batcher the same pixels as rendering on the calling thread', async () => {
    const cache = new ImageCache({
      vipsThreads: null,
      decoder: async (path, size) => square(trainSide(size), Number(/(\d+)/.exec(path)![1])),
    });
    const items = Array.from({ length: 7 }, (_, i) => ({ key: `k${i}`, path: `/x/${i}.jpg`, label: i % 2 }));
    const run = async (renderer: RenderPool | null): Promise<Batch[]> => {
      const out: Batch[] = [];
      for await (const b of batches({ items, size: 12, batchSize: 3, seed: 4, epoch: 2, augment: { flip: true, cropScaleMin: 0.3 }, cache, renderer })) out.push(b);
      return out;
    };
    const [a, b] = [await run(pool), await run(null)];
    expect(a.map((x) => x.indices)).toEqual(b.map((x) => x.indices));
    a.forEach((batch, k) => expect(Array.from(batch.x)).toEqual(Array.from(b[k]!.x)));
    await cache.close();
  });

  it('refuses work once closed', async () => {
    const p = new RenderPool(1);
    await p.render([square(4, 0)], 4, [{ x: 0, y: 0, w: 1, h: 1, flip: false }], 2);
    await p.close();
    await expect(p.render([square(4, 0)], 4, [{ x: 0, y: 0, w: 1, h: 1, flip: false }], 2)).rejects.toThrow(/closed/);
  });
});
