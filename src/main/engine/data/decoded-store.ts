// Decoded images kept on disk across processes, so a run after the first on the same images and size
// starts warm: decoding costs ~4 ms CPU per photo on the cores that train (the whole first-epoch
// slowdown), reading 36 KB back costs ~0.05 ms. One file per (image file state, size, mode), named
// by a hash of the source path, its byte size and mtime, the decode version and the view, so an
// edited or replaced file is never served stale. Files are sharded by the name's first two hex
// digits; the folder is kept under a byte cap, least recently used first (a read refreshes mtime).
// Everything here is best effort: an unreadable or half-written entry is a miss, never an error.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Bump when decoding changes what a stored square contains. */
const DECODE_VERSION = 'd1';
export const DEFAULT_DECODED_STORE_BYTES = 2 * 1024 ** 3;

export interface DecodedKey {
  path: string;
  size: number;
  mode: string;
}

export class DecodedStore {
  constructor(
    readonly dir: string,
    readonly maxBytes = DEFAULT_DECODED_STORE_BYTES,
  ) {}

  /** The entry's file for the current state of the source file; null when the source cannot be stat'ed. */
  async fileFor(k: DecodedKey): Promise<string | null> {
    let st;
    try {
      st = await stat(k.path);
    } catch {
      return null;
    }
    const name = createHash('sha1').update(`${DECODE_VERSION}\0${k.mode}\0${k.size}\0${k.path}\0${st.size}\0${st.mtimeMs}`).digest('hex');
    return join(this.dir, name.slice(0, 2), `${name}.u8`);
  }

  /** The stored pixels, or null (absent, wrong length, unreadable). */
  async read(file: string, bytes: number): Promise<Uint8Array | null> {
    try {
      const buf = await readFile(file);
      if (buf.byteLength !== bytes) return null;
      const now = new Date();
      utimes(file, now, now).catch(() => undefined); // recency for the pruning
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch {
      return null;
    }
  }

  /** Stores pixels atomically (temp file + rename); failures are ignored. */
  async write(file: string, data: Uint8Array): Promise<void> {
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(tmp, data);
      await rename(tmp, file);
    } catch {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** Deletes least recently used entries until the folder holds at most maxBytes. Returns bytes freed. */
  async prune(): Promise<number> {
    const entries: { file: string; bytes: number; used: number }[] = [];
    let total = 0;
    let shards: string[];
    try {
      shards = await readdir(this.dir);
    } catch {
      return 0;
    }
    for (const shard of shards) {
      let names: string[];
      try {
        names = await readdir(join(this.dir, shard));
      } catch {
        continue;
      }
      for (const name of names) {
        const file = join(this.dir, shard, name);
        try {
          const st = await stat(file);
          // Temp files of writers that died more than a day ago are garbage.
          if (name.endsWith('.tmp')) {
            if (Date.now() - st.mtimeMs > 86_400_000) await unlink(file);
            continue;
          }
          entries.push({ file, bytes: st.size, used: st.mtimeMs });
          total += st.size;
        } catch {
          // Removed meanwhile by another process.
        }
      }
    }
    let freed = 0;
    entries.sort((a, b) => a.used - b.used);
    for (const e of entries) {
      if (total - freed <= this.maxBytes) break;
      try {
        await unlink(e.file);
        freed += e.bytes;
      } catch {
        // Already gone.
      }
    }
    return freed;
  }
}
