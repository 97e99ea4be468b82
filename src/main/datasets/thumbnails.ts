// Thumbnail cache for the Browser grid: 128 px JPEGs made once per content hash under <home>/thumbs,
// so 25,000 images scroll smoothly and a renamed or duplicated file reuses its thumbnail.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openImage, type OpenOptions } from './image-open.js';

export const THUMB_SIZE = 128;

const HASH = /^[0-9a-f]{64}$/;

export interface ThumbnailOptions extends OpenOptions {
  size?: number;
  quality?: number;
  /** Thumbnails made at once (sharp decodes on libuv's thread pool). */
  concurrency?: number;
}

export function thumbnailsDir(home: string): string {
  return path.join(home, 'thumbs');
}

export class ThumbnailCache {
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;

  constructor(
    readonly dir: string,
    private readonly opts: ThumbnailOptions = {},
  ) {}

  /** <dir>/<first two hex digits>/<hash>.jpg: two-level so no folder holds 25,000 entries. */
  pathFor(hash: string): string {
    if (!HASH.test(hash)) throw new Error(`not a content hash: ${hash}`);
    return path.join(this.dir, hash.slice(0, 2), `${hash}.jpg`);
  }

  has(hash: string): boolean {
    return HASH.test(hash) && fs.existsSync(this.pathFor(hash));
  }

  /**
   * The thumbnail of `source`, made if not cached yet. Keyed by the content actually read: if the file
   * changed since it was indexed under `hash`, the result is the new content's thumbnail.
   */
  async get(source: string, hash: string): Promise<string> {
    const cached = this.pathFor(hash);
    if (fs.existsSync(cached)) return cached;
    const pending = this.inflight.get(hash);
    if (pending) return pending;
    const job = this.limited(() => this.make(source)).finally(() => this.inflight.delete(hash));
    this.inflight.set(hash, job);
    return job;
  }

  private async make(source: string): Promise<string> {
    const buf = await fs.promises.readFile(source);
    const out = this.pathFor(crypto.createHash('sha256').update(buf).digest('hex'));
    if (fs.existsSync(out)) return out;
    const size = this.opts.size ?? THUMB_SIZE;
    const jpeg = await openImage(buf, this.opts)
      .rotate() // EXIF orientation
      .flatten({ background: '#ffffff' }) // alpha over white, as viewers show it
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb') // grayscale and CMYK sources become RGB
      .jpeg({ quality: this.opts.quality ?? 80 })
      .toBuffer();
    await fs.promises.mkdir(path.dirname(out), { recursive: true });
    // Written under a temp name then renamed: a reader never sees half a file.
    const tmp = `${out}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    await fs.promises.writeFile(tmp, jpeg);
    await fs.promises.rename(tmp, out);
    return out;
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    const max = Math.max(1, this.opts.concurrency ?? 4);
    // A finishing job hands its slot straight to the next waiter, so the limit is never exceeded.
    if (this.active >= max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
