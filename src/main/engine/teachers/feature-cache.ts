// Pooled backbone features kept in the home across runs: a frozen backbone gives the same vector for
// the same pixels, so each (image content, view, backbone) is computed once and a second teacher on
// the same images, another head or more epochs, reads 2·D bytes instead of running the backbone.
// One float16 file per entry (<sha1>.bin, flat folder), pruned like the teacher soft-label cache:
// unused for 30 days or beyond the byte cap, least recently used first. Best effort: an unreadable
// or wrong-length file is a miss.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../data/float16.js';
import { pruneTeacherViews } from '../train/teacher-cache-prune.js';
import { writeFileAtomic } from '../../util/atomic-write.js';

export const FEATURE_CACHE_MAX_BYTES = 1024 ** 3;


export class FeatureCache {
  constructor(
    readonly dir: string,
    readonly maxBytes = FEATURE_CACHE_MAX_BYTES,
  ) {}

  /** Entry name of one image's features: its content key, the view number and the backbone's id. */
  key(backboneId: string, imageKey: string, view: number): string {
    return createHash('sha1').update(`f1\0${backboneId}\0${view}\0${imageKey}`).digest('hex');
  }

  read(key: string, dim: number): Float32Array | null {
    const file = path.join(this.dir, `${key}.bin`);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch {
      return null;
    }
    if (buf.byteLength !== dim * 2) return null;
    const now = new Date();
    try {
      fs.utimesSync(file, now, now); // recency for the pruning
    } catch {
      // removed meanwhile by another process: we already hold the bytes
    }
    const out = new Float32Array(dim);
    for (let i = 0; i < dim; i++) out[i] = float16BitsToFloat32(buf.readUInt16LE(i * 2));
    return out;
  }

  write(key: string, v: Float32Array): void {
    const bits = Buffer.alloc(v.length * 2);
    for (let i = 0; i < v.length; i++) bits.writeUInt16LE(float32ToFloat16Bits(v[i]!), i * 2);
    fs.mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(path.join(this.dir, `${key}.bin`), bits);
  }

  /** Drops stale and least recently used entries; `keep` (one just used) always stays. */
  prune(keep: string): string[] {
    return pruneTeacherViews(this.dir, { keep, maxBytes: this.maxBytes });
  }
}
