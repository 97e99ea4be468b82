// The Preprocessing contract (preprocessing.ts) applied on the host, for runtimes outside tfjs
// (onnxruntime): range and mean/std folded into one per-channel affine map, written in the model's layout.
import type { Preprocessing } from './preprocessing.js';

export type Layout = 'NHWC' | 'NCHW';

/** x' = x · scale + offset per channel: the range, then (x - mean) / std. */
export function channelAffine(p: Preprocessing): { scale: [number, number, number]; offset: [number, number, number] } {
  const [a, b] = p.range === '0-1' ? [1 / 255, 0] : p.range === '-1-1' ? [1 / 127.5, -1] : [1, 0];
  const mean = p.mean ?? [0, 0, 0];
  const std = p.std ?? [1, 1, 1];
  const scale: [number, number, number] = [a / std[0], a / std[1], a / std[2]];
  const offset: [number, number, number] = [(b - mean[0]) / std[0], (b - mean[1]) / std[1], (b - mean[2]) / std[2]];
  return { scale, offset };
}

/** Pixels [n,S,S,3] RGB [0,255] → the model's input: its range, normalization and layout. */
export function preprocessPixels(src: Float32Array, n: number, size: number, p: Preprocessing, layout: Layout): Float32Array {
  const { scale, offset } = channelAffine(p);
  const hw = size * size;
  const out = new Float32Array(n * hw * 3);
  if (layout === 'NHWC') {
    for (let i = 0; i < n * hw; i++) {
      for (let c = 0; c < 3; c++) out[i * 3 + c] = src[i * 3 + c]! * scale[c]! + offset[c]!;
    }
    return out;
  }
  for (let b = 0; b < n; b++) {
    const base = b * hw * 3;
    for (let c = 0; c < 3; c++) {
      const dst = base + c * hw;
      for (let i = 0; i < hw; i++) out[dst + i] = src[base + i * 3 + c]! * scale[c]! + offset[c]!;
    }
  }
  return out;
}
