// Decoded uint8 images kept per process so each file is decoded once per (image, size, mode).
// Memory holds entries up to a byte budget; beyond it new entries go to a packed spill file.
// Policy "keep what's in RAM, spill the rest" rather than LRU: training reads every image once per
// epoch in a fresh random order, where LRU would evict each entry just before it is needed again;
// pinning gives a hit rate of budget/total, the best any policy gets on such a scan.
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeForEval, decodeForTraining, trainSide } from './decode.js';
import { DecodedStore } from './decoded-store.js';
import { Limiter } from './limit.js';
import { SpillStore, type SpillRecord } from './spill-store.js';

/** 'train': the stored square of side trainSide(size); 'eval': the size×size center view. */
export type DecodeMode = 'train' | 'eval';

/** What the cache needs to know about an image: a stable id (image id or content hash) and its file. */
export interface ImageRef {
  key: string;
  path: string;
}

export type Decoder = (path: string, size: number, mode: DecodeMode) => Promise<Uint8Array>;

export interface ImageCacheOptions {
  /** Bytes of decoded pixels kept in RAM before spilling to disk. Default 1 GiB. */
  memoryBytes?: number;
  /** Folder for the spill file. Default <os tmpdir>/distill-image-cache. */
  spillDir?: string;
  /** Decodes in flight at once. Default: the number of cores. */
  concurrency?: number;
  /**
   * libvips threads per image (sharp.concurrency, process-wide). Default 1: images here are small,
   * so parallelism comes from decoding several at once, not from splitting one. null leaves it alone.
   */
  vipsThreads?: number | null;
  /** Replaces the sharp decoder (tests). */
  decoder?: Decoder;
  /** Keep decoded images on disk here across processes (decoded-store.ts); none when absent. */
  persistDir?: string;
  /** Byte cap of persistDir (default 2 GiB). */
  persistBytes?: number;
}

export interface WarmProgress {
  done: number;
  total: number;
  failed: number;
}

export interface WarmResult {
  /** Images decoded by this call (the others were already cached). */
  decoded: number;
  failed: { key: string; path: string; error: string }[];
}

export interface ImageCacheStats {
  decodes: number;
  /** Images read back from the persistent store instead of decoded. */
  persistHits: number;
  memoryHits: number;
  diskHits: number;
  memoryEntries: number;
  memoryBytes: number;
  diskEntries: number;
  diskBytes: number;
  failures: number;
}

type Entry = { kind: 'memory'; data: Uint8Array } | { kind: 'disk'; rec: SpillRecord } | { kind: 'failed'; message: string };

export const DEFAULT_CACHE_BYTES = 1024 ** 3;

function defaultDecoder(path: string, size: number, mode: DecodeMode): Promise<Uint8Array> {
  return mode === 'train' ? decodeForTraining(path, size) : decodeForEval(path, size);
}

export class ImageCache {
  readonly memoryBudget: number;
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  private readonly limiter: Limiter;
  private readonly spill: SpillStore;
  private readonly decoder: Decoder;
  private counts = { decodes: 0, persistHits: 0, memoryHits: 0, diskHits: 0, memoryEntries: 0, memoryBytes: 0, diskEntries: 0, failures: 0 };
  private persist: DecodedStore | null = null;
  private readonly writes = new Set<Promise<void>>();

  constructor(opts: ImageCacheOptions = {}) {
    this.memoryBudget = opts.memoryBytes ?? DEFAULT_CACHE_BYTES;
    if (!(this.memoryBudget >= 0)) throw new Error(`memoryBytes must be ≥ 0, got ${opts.memoryBytes}`);
    this.limiter = new Limiter(opts.concurrency ?? Math.max(1, availableParallelism()));
    this.spill = new SpillStore(opts.spillDir ?? join(tmpdir(), 'distill-image-cache'));
    this.decoder = opts.decoder ?? defaultDecoder;
    const vips = opts.vipsThreads === undefined ? 1 : opts.vipsThreads;
    if (vips !== null) sharp.concurrency(vips);
    if (opts.persistDir) this.persistTo(opts.persistDir, opts.persistBytes);
  }

  /**
   * From now on, decoded images are also kept in `dir` and looked up there before decoding. Prunes
   * the folder to its cap in the background (what earlier processes left). Calling it again with
   * the same folder does nothing.
   */
  persistTo(dir: string, maxBytes?: number): void {
    if (this.persist?.dir === dir) return;
    this.persist = new DecodedStore(dir, maxBytes);
    this.persist.prune().catch(() => undefined);
  }

  /** Decoded pixels from the persistent store, else from the decoder (then stored). */
  private async load(ref: ImageRef, size: number, mode: DecodeMode): Promise<{ data: Uint8Array; decoded: boolean }> {
    const persist = this.persist;
    const file = persist ? await persist.fileFor({ path: ref.path, size, mode }) : null;
    if (persist && file) {
      const side = mode === 'train' ? trainSide(size) : size;
      const data = await persist.read(file, side * side * 3);
      if (data) return { data, decoded: false };
    }
    const data = await this.decoder(ref.path, size, mode);
    if (persist && file) {
      // Not awaited by the reader; close() waits for them.
      const w = persist.write(file, data).finally(() => this.writes.delete(w));
      this.writes.add(w);
    }
    return { data, decoded: true };
  }

  /** Path of the spill file (created on first spill). */
  get spillPath(): string {
    return this.spill.path;
  }

  has(key: string, size: number, mode: DecodeMode = 'train'): boolean {
    const e = this.entries.get(cacheKey(key, size, mode));
    return e !== undefined && e.kind !== 'failed';
  }

  /**
   * The decoded image (decoded now if needed; concurrent requests share one decode). The returned
   * array may be the cached one: read it, never write to it. A file that failed once fails again
   * with the same message without another decode.
   */
  get(ref: ImageRef, size: number, mode: DecodeMode = 'train'): Promise<Uint8Array> {
    const k = cacheKey(ref.key, size, mode);
    const e = this.entries.get(k);
    if (e) {
      if (e.kind === 'memory') {
        this.counts.memoryHits++;
        return Promise.resolve(e.data);
      }
      if (e.kind === 'disk') {
        this.counts.diskHits++;
        return this.spill.read(e.rec);
      }
      return Promise.reject(new Error(e.message));
    }
    const pending = this.inflight.get(k);
    if (pending) return pending;
    const p = this.limiter
      .run(() => this.load(ref, size, mode))
      .then(
        async ({ data, decoded }) => {
          if (decoded) this.counts.decodes++;
          else this.counts.persistHits++;
          await this.store(k, data);
          return data;
        },
        (err: unknown) => {
          const message = err instanceof Error ? err.message : `cannot decode image ${ref.path}: ${String(err)}`;
          this.entries.set(k, { kind: 'failed', message });
          this.counts.failures++;
          throw err instanceof Error ? err : new Error(message);
        },
      )
      .finally(() => this.inflight.delete(k));
    this.inflight.set(k, p);
    return p;
  }

  private async store(k: string, data: Uint8Array): Promise<void> {
    if (this.counts.memoryBytes + data.byteLength <= this.memoryBudget) {
      this.entries.set(k, { kind: 'memory', data });
      this.counts.memoryEntries++;
      this.counts.memoryBytes += data.byteLength;
      return;
    }
    const rec = await this.spill.append(data);
    this.entries.set(k, { kind: 'disk', rec });
    this.counts.diskEntries++;
  }

  /** Decodes every image not cached yet (bounded concurrency); failures are collected, not thrown. */
  async warm(
    refs: readonly ImageRef[],
    size: number,
    mode: DecodeMode = 'train',
    onProgress?: (p: WarmProgress) => void,
  ): Promise<WarmResult> {
    const total = refs.length;
    let done = 0;
    const fresh = new Set<string>();
    const failed: WarmResult['failed'] = [];
    await Promise.all(
      refs.map(async (ref) => {
        try {
          if (!this.has(ref.key, size, mode)) {
            await this.get(ref, size, mode);
            fresh.add(ref.key);
          }
        } catch (e) {
          failed.push({ key: ref.key, path: ref.path, error: e instanceof Error ? e.message : String(e) });
        }
        done++;
        onProgress?.({ done, total, failed: failed.length });
      }),
    );
    return { decoded: fresh.size, failed };
  }

  /**
   * Forgets every image decoded at `size` (e.g. the teacher's, once its soft labels are cached and
   * training renders at the student's size only): their memory goes back to the budget. Spilled
   * bytes stay in the spill file until close; the persistent store keeps them for the next run.
   */
  forgetSize(size: number, mode: DecodeMode = 'train'): number {
    const prefix = `${mode}:${size}:`;
    let freed = 0;
    for (const [k, e] of this.entries) {
      if (!k.startsWith(prefix)) continue;
      if (e.kind === 'memory') {
        freed += e.data.byteLength;
        this.counts.memoryEntries--;
        this.counts.memoryBytes -= e.data.byteLength;
      } else if (e.kind === 'disk') this.counts.diskEntries--;
      this.entries.delete(k);
    }
    return freed;
  }

  stats(): ImageCacheStats {
    return { ...this.counts, diskBytes: this.spill.bytes };
  }

  /** Drops everything and deletes the spill file. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight.values()]);
    await Promise.allSettled([...this.writes]);
    this.entries.clear();
    this.counts = { ...this.counts, memoryEntries: 0, memoryBytes: 0, diskEntries: 0 };
    await this.spill.close();
  }
}

export function cacheKey(key: string, size: number, mode: DecodeMode): string {
  return `${mode}:${size}:${key}`;
}

let shared: ImageCache | null = null;

/**
 * The process-wide cache (created with `opts` on first call): a trainer, its evaluation and its
 * teacher share one, so no image is decoded twice in a process.
 */
export function sharedImageCache(opts?: ImageCacheOptions): ImageCache {
  shared ??= new ImageCache(opts);
  return shared;
}

/** Makes the process-wide cache keep decoded images under `dir` (runs, mining, evaluation of one home). */
export function persistSharedImageCache(dir: string): void {
  sharedImageCache().persistTo(dir);
}
