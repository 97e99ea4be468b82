// Decoded images persisted across processes (data/decoded-store.ts via ImageCache.persistTo): a
// second cache on the same folder reads instead of decoding, byte-identical to a direct decode;
// an edited source file, a truncated entry and the byte cap are handled.
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeForTraining } from '../../src/main/engine/data/decode.js';
import { DecodedStore } from '../../src/main/engine/data/decoded-store.js';
import { ImageCache } from '../../src/main/engine/data/image-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'distill-decoded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function photo(name: string, seed: number): Promise<string> {
  const w = 50 + seed;
  const h = 40;
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * (seed + 3) + (i >> 7)) & 0xff;
  const file = join(dir, name);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
  return file;
}

function entries(store: string): string[] {
  return readdirSync(store, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.u8'))
    .map((e) => join(e.parentPath, e.name));
}

describe('persistent decoded images', () => {
  it('a second cache reads them back instead of decoding, byte for byte', async () => {
    const files = await Promise.all([0, 1, 2].map((i) => photo(`p${i}.jpg`, i)));
    const refs = files.map((path, i) => ({ key: `k${i}`, path }));
    const store = join(dir, 'store1');
    const a = new ImageCache({ persistDir: store });
    for (const r of refs) await a.get(r, 24);
    expect(a.stats()).toMatchObject({ decodes: 3, persistHits: 0 });
    await a.close(); // waits for the writes
    expect(entries(store)).toHaveLength(3);

    const b = new ImageCache({ persistDir: store });
    for (const r of refs) {
      const got = await b.get(r, 24);
      expect(Buffer.from(got).equals(Buffer.from(await decodeForTraining(r.path, 24)))).toBe(true);
    }
    expect(b.stats()).toMatchObject({ decodes: 0, persistHits: 3 });
    // Another size or mode is another entry.
    await b.get(refs[0]!, 16);
    await b.get(refs[0]!, 24, 'eval');
    expect(b.stats().decodes).toBe(2);
    await b.close();

    // An edited source file is decoded again (its size/mtime name another entry), the rest are hits.
    writeFileSync(files[1]!, await sharp(files[2]!).toBuffer());
    utimesSync(files[1]!, new Date(), new Date(Date.now() + 5000));
    // A truncated entry (image 0's) is a miss, not an error.
    const entry0 = (await new DecodedStore(store).fileFor({ path: refs[0]!.path, size: 24, mode: 'train' }))!;
    expect(statSync(entry0).size).toBe(3 * 27 * 27);
    truncateSync(entry0, 100);
    const c = new ImageCache({ persistDir: store });
    for (const r of refs) {
      const got = await c.get(r, 24);
      expect(Buffer.from(got).equals(Buffer.from(await decodeForTraining(r.path, 24)))).toBe(true);
    }
    expect(c.stats().decodes).toBe(2);
    expect(c.stats().persistHits).toBe(1);
    await c.close();
  });

  it('prune keeps the most recently used entries under the byte cap', async () => {
    const store = join(dir, 'store2');
    const s = new DecodedStore(store, 2500);
    const files: string[] = [];
    for (let i = 0; i < 4; i++) {
      const f = join(store, `0${i}`, `${'0'.repeat(39)}${i}.u8`);
      await s.write(f, new Uint8Array(1000).fill(i));
      utimesSync(f, new Date(), new Date(Date.now() - (10 - i) * 60_000)); // 0 oldest … 3 newest
      files.push(f);
    }
    // Reading refreshes an entry: the oldest becomes the newest.
    expect(await s.read(files[0]!, 1000)).not.toBeNull();
    await new Promise((r) => setTimeout(r, 20)); // the refresh is not awaited by read()
    expect(await s.read(files[1]!, 999)).toBeNull(); // wrong length: a miss
    const freed = await s.prune();
    expect(freed).toBe(2000);
    expect(entries(store).sort()).toEqual([files[0]!, files[3]!].sort());
  });
});
