import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeForEval, decodeForTraining, trainSide } from '../../src/main/engine/data/decode.js';
import { ImageCache, type DecodeMode } from '../../src/main/engine/data/image-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'distill-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic fake pixels: every byte depends on key, size, mode and position. */
function fakePixels(path: string, size: number, mode: DecodeMode): Uint8Array {
  const n = size * size * 3;
  const out = new Uint8Array(n);
  let h = 7;
  for (const ch of `${path}|${mode}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  for (let i = 0; i < n; i++) out[i] = (h + i * 13 + (i >> 5)) & 0xff;
  return out;
}

function countingDecoder(delayMs = 1) {
  const calls: string[] = [];
  let active = 0;
  let maxActive = 0;
  const decoder = async (path: string, size: number, mode: DecodeMode): Promise<Uint8Array> => {
    calls.push(`${path}|${size}|${mode}`);
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise((r) => setTimeout(r, delayMs));
    active--;
    if (path.includes('broken')) throw new Error(`cannot decode image ${path}: corrupt header`);
    return fakePixels(path, size, mode);
  };
  return { decoder, calls, max: () => maxActive };
}

const refs = Array.from({ length: 12 }, (_, i) => ({ key: `img${i}`, path: `/data/img${i}.jpg` }));

describe('ImageCache', () => {
  it('decodes once per (image, size, mode) and shares concurrent requests', async () => {
    const fake = countingDecoder();
    const cache = new ImageCache({ decoder: fake.decoder, spillDir: dir, vipsThreads: null });
    const [a, b] = await Promise.all([cache.get(refs[0]!, 8), cache.get(refs[0]!, 8)]);
    expect(a).toBe(b);
    await cache.get(refs[0]!, 8);
    await cache.get(refs[0]!, 8, 'eval');
    await cache.get(refs[0]!, 16);
    expect(fake.calls).toEqual(['/data/img0.jpg|8|train', '/data/img0.jpg|8|eval', '/data/img0.jpg|16|train']);
    expect(cache.stats()).toMatchObject({ decodes: 3, memoryHits: 1, diskEntries: 0 });
    await cache.close();
  });

  it('forgetSize gives the memory of one size back to the budget (the teacher\'s squares once its labels are cached)', async () => {
    const fake = countingDecoder();
    const cache = new ImageCache({ decoder: fake.decoder, spillDir: dir, memoryBytes: 1000, vipsThreads: null });
    await cache.warm(refs.slice(0, 4), 10); // 3 in memory (900 bytes), 1 spilled
    await cache.get(refs[0]!, 10, 'eval');
    expect(cache.stats()).toMatchObject({ memoryEntries: 3, memoryBytes: 900, diskEntries: 2 });
    expect(cache.forgetSize(10)).toBe(900);
    expect(cache.stats()).toMatchObject({ memoryEntries: 0, memoryBytes: 0, diskEntries: 1 });
    expect(cache.has(refs[0]!.key, 10)).toBe(false);
    // Only the train squares of that size went: the eval one of the same size stays, untouched.
    expect(cache.has(refs[0]!.key, 10, 'eval')).toBe(true);
    // The freed budget holds other images in memory again.
    await cache.warm(refs.slice(4, 7), 10);
    expect(cache.stats()).toMatchObject({ memoryEntries: 3, memoryBytes: 900, diskEntries: 1 });
    await cache.close();
  });

  it('spills beyond the byte budget to a file and reads back identical bytes', async () => {
    const fake = countingDecoder();
    const size = 10; // 300 bytes per image
    const cache = new ImageCache({ decoder: fake.decoder, spillDir: dir, memoryBytes: 1000, vipsThreads: null });
    const progress: number[] = [];
    const res = await cache.warm(refs, size, 'train', (p) => progress.push(p.done));
    expect(res).toEqual({ decoded: 12, failed: [] });
    expect(progress).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const st = cache.stats();
    expect(st.memoryEntries).toBe(3); // 3 × 300 ≤ 1000 < 4 × 300
    expect(st.memoryBytes).toBe(900);
    expect(st.diskEntries).toBe(9);
    expect(st.diskBytes).toBe(2700);
    expect(existsSync(cache.spillPath)).toBe(true);
    expect(statSync(cache.spillPath).size).toBe(2700);
    for (const r of refs) {
      const got = await cache.get(r, size);
      expect(Buffer.from(got).equals(Buffer.from(fakePixels(r.path, size, 'train')))).toBe(true);
    }
    expect(fake.calls.length).toBe(12);
    expect(cache.stats()).toMatchObject({ memoryHits: 3, diskHits: 9 });
    // A second pass decodes nothing.
    expect((await cache.warm(refs, size)).decoded).toBe(0);
    expect(fake.calls.length).toBe(12);
    const spill = cache.spillPath;
    await cache.close();
    expect(existsSync(spill)).toBe(false);
  });

  it('keeps decodes within the concurrency bound', async () => {
    const fake = countingDecoder(5);
    const cache = new ImageCache({ decoder: fake.decoder, spillDir: dir, concurrency: 2, vipsThreads: null });
    await cache.warm(refs, 4);
    expect(fake.max()).toBe(2);
    await cache.close();
  });

  it('remembers failures: same message, no second decode, reported by warm', async () => {
    const fake = countingDecoder();
    const cache = new ImageCache({ decoder: fake.decoder, spillDir: dir, vipsThreads: null });
    const bad = { key: 'b', path: '/data/broken.jpg' };
    await expect(cache.get(bad, 8)).rejects.toThrow('cannot decode image /data/broken.jpg: corrupt header');
    await expect(cache.get(bad, 8)).rejects.toThrow('cannot decode image /data/broken.jpg: corrupt header');
    const res = await cache.warm([refs[0]!, bad], 8);
    expect(res.decoded).toBe(1);
    expect(res.failed).toEqual([{ key: 'b', path: '/data/broken.jpg', error: 'cannot decode image /data/broken.jpg: corrupt header' }]);
    expect(fake.calls.filter((c) => c.includes('broken'))).toHaveLength(1);
    await cache.close();
  });

  it('removes spill files left by dead processes', async () => {
    const sub = join(dir, 'stale');
    const fake = countingDecoder();
    const first = new ImageCache({ decoder: fake.decoder, spillDir: sub, memoryBytes: 0, vipsThreads: null });
    await first.get(refs[0]!, 4);
    // A pid that cannot be alive (above Linux's pid_max limit).
    const stale = join(sub, 'spill-99999999-abcd.u8pack');
    writeFileSync(stale, 'x');
    const second = new ImageCache({ decoder: fake.decoder, spillDir: sub, memoryBytes: 0, vipsThreads: null });
    await second.get(refs[1]!, 4);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(first.spillPath)).toBe(true); // its owner (this process) is alive
    await first.close();
    await second.close();
  });

  it('stores real sharp decodes, spilled ones identical to a direct decode', async () => {
    const files: { key: string; path: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const p = join(dir, `real${i}.png`);
      const buf = Buffer.alloc(30 * 20 * 3);
      for (let j = 0; j < buf.length; j++) buf[j] = (j * (i + 3)) & 0xff;
      await sharp(buf, { raw: { width: 30, height: 20, channels: 3 } }).png().toFile(p);
      files.push({ key: `r${i}`, path: p });
    }
    const size = 16;
    const cache = new ImageCache({ spillDir: dir, memoryBytes: trainSide(size) ** 2 * 3 }); // room for one
    await cache.warm(files, size);
    expect(cache.stats()).toMatchObject({ memoryEntries: 1, diskEntries: 3, decodes: 4 });
    for (const f of files) {
      expect(Buffer.from(await cache.get(f, size)).equals(Buffer.from(await decodeForTraining(f.path, size)))).toBe(true);
      expect(Buffer.from(await cache.get(f, size, 'eval')).equals(Buffer.from(await decodeForEval(f.path, size)))).toBe(true);
    }
    expect(sharp.concurrency()).toBe(1);
    await cache.close();
  });
});
