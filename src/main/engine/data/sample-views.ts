// A sample of a set's images as the models see them at eval time (no augmentation), for the passes
// that need some real images rather than all: int8 calibration, BatchNorm recalibration.
import { evalViews } from '../train/batches.js';

/** Evenly spread picks, so a list sorted by folder gives every class folder its share. */
export function spreadPicks<T>(items: readonly T[], k: number): T[] {
  if (items.length <= k) return [...items];
  return Array.from({ length: k }, (_, i) => items[Math.floor((i * items.length) / k)]!);
}

/** Up to `k` spread images decoded to NHWC [n, S, S, 3] batches in [0, 255]; unreadable ones are left out. */
export async function sampleViews(items: readonly { key: string; path: string }[], k: number, size: number): Promise<{ x: Float32Array; n: number }[]> {
  const out: { x: Float32Array; n: number }[] = [];
  for await (const b of evalViews(spreadPicks(items, k), size, { batchSize: 32 })) {
    const n = b.indices.length;
    if (n) out.push({ x: Float32Array.from(b.x.subarray(0, n * size * size * 3)), n });
  }
  return out;
}
