// Small seeded PRNG for the input pipeline: a seed (plus epoch and image index) reproduces a run's
// shuffles and crops bit for bit, independent of Math.random and of the order work is scheduled in.

/** A 32-bit finalizer (murmur3 fmix32): spreads nearby integers (seed 0, 1, 2…) far apart. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Combines integers into one uint32 seed. Order matters: hashSeed(s, 1, 2) ≠ hashSeed(s, 2, 1).
 * Used to give each (seed, epoch, image) its own independent stream, so a crop does not depend on
 * how many random numbers other images consumed.
 */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    // Fold in the high bits too, so seeds above 2^32 still differ.
    const lo = p >>> 0;
    const hi = Math.floor(p / 0x1_0000_0000) >>> 0;
    h = fmix32((h ^ lo) + 0x6d2b79f5);
    if (hi !== 0) h = fmix32((h ^ hi) + 0x6d2b79f5);
  }
  return h;
}

/** mulberry32: tiny, fast, 32-bit state, good enough statistics for shuffles and crop sampling. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Streams are separated by a tag so shuffling and cropping never share random numbers. */
export const STREAM_SHUFFLE = 1;
export const STREAM_VIEW = 2;

/** In-place Fisher–Yates shuffle. */
export function shuffleInPlace<T>(arr: T[], rng: Rng): T[] {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = arr[i]!;
    arr[i] = arr[j]!;
    arr[j] = t;
  }
  return arr;
}
