// Training views: seeded random-resized-crop + horizontal flip, rendered with bilinear sampling from
// the stored uint8 square straight into a Float32 batch slot (values stay in [0,255]; models
// normalize inside). A view is plain data in coordinates normalized to the stored square, so it can
// be recorded and replayed at another size (a teacher at 224 sees the student's 96-pixel crop).
import { centerOffset, trainSide } from './decode.js';
import { Rng, STREAM_VIEW, hashSeed } from './rng.js';

/** A crop box in [0,1] units of the stored square (x, y: top-left), and whether to mirror it. */
export interface CropView {
  x: number;
  y: number;
  w: number;
  h: number;
  flip: boolean;
}

export interface AugmentOptions {
  /** Mirror half of the views. */
  flip: boolean;
  /** Smallest crop area as a fraction of the stored square (torchvision's scale=(min, 1)). */
  cropScaleMin: number;
  /** Aspect ratio (w/h) range of the crop; default 3/4 … 4/3. */
  aspectMin?: number;
  aspectMax?: number;
}

/**
 * torchvision's RandomResizedCrop on the unit square, continuous instead of integer: area fraction
 * uniform in [cropScaleMin, 1], log-aspect uniform, position uniform; ten tries, then the whole square.
 */
export function randomResizedCropView(rng: Rng, opts: AugmentOptions): CropView {
  const smin = Math.min(1, Math.max(0, opts.cropScaleMin));
  const lo = Math.log(opts.aspectMin ?? 3 / 4);
  const hi = Math.log(opts.aspectMax ?? 4 / 3);
  let box: Omit<CropView, 'flip'> = { x: 0, y: 0, w: 1, h: 1 };
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = rng.uniform(smin, 1);
    const ratio = Math.exp(rng.uniform(lo, hi));
    const w = Math.sqrt(area * ratio);
    const h = Math.sqrt(area / ratio);
    if (w <= 1 && h <= 1) {
      box = { x: rng.uniform(0, 1 - w), y: rng.uniform(0, 1 - h), w, h };
      break;
    }
  }
  // Drawn even when unused so the stream's length does not depend on the flip setting.
  const coin = rng.next();
  return { ...box, flip: opts.flip && coin < 0.5 };
}

/** The view of image `index` in `epoch`: a pure function of its arguments, whatever the batch order. */
export function trainingView(seed: number, epoch: number, index: number, opts: AugmentOptions): CropView {
  return randomResizedCropView(new Rng(hashSeed(seed, STREAM_VIEW, epoch, index)), opts);
}

/** The eval window (center size×size of the stored square) as a view; it renders as an exact copy. */
export function centerView(size: number): CropView {
  const side = trainSide(size);
  const off = centerOffset(side, size);
  return { x: off / side, y: off / side, w: size / side, h: size / side, flip: false };
}

interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  f: Float64Array;
}

/**
 * Source taps for `size` output samples over [start, start+extent) (in source pixels), half-pixel
 * aligned like PyTorch's align_corners=False, clamped at the border.
 */
function taps(start: number, extent: number, side: number, size: number, mirror: boolean): Taps {
  const t: Taps = { i0: new Int32Array(size), i1: new Int32Array(size), f: new Float64Array(size) };
  const step = extent / size;
  for (let o = 0; o < size; o++) {
    const s = start + ((mirror ? size - 1 - o : o) + 0.5) * step - 0.5;
    let i0: number;
    let i1: number;
    let f: number;
    if (s <= 0) {
      i0 = i1 = 0;
      f = 0;
    } else if (s >= side - 1) {
      i0 = i1 = side - 1;
      f = 0;
    } else {
      i0 = Math.floor(s);
      i1 = i0 + 1;
      f = s - i0;
    }
    t.i0[o] = i0;
    t.i1[o] = i1;
    t.f[o] = f;
  }
  return t;
}

/**
 * Renders `view` of an HWC uint8 RGB square (side×side) as size×size×3 floats into out[offset…].
 * Integer-aligned views at scale 1 (like centerView) copy pixels exactly.
 */
export function renderView(src: Uint8Array, side: number, view: CropView, size: number, out: Float32Array, offset = 0): void {
  if (src.length !== side * side * 3) throw new Error(`renderView: expected ${side}x${side}x3 bytes, got ${src.length}`);
  if (offset + size * size * 3 > out.length) throw new Error('renderView: output slot out of range');
  const cx = taps(view.x * side, view.w * side, side, size, view.flip);
  const cy = taps(view.y * side, view.h * side, side, size, false);
  const rowStride = side * 3;
  let o = offset;
  for (let oy = 0; oy < size; oy++) {
    const r0 = cy.i0[oy]! * rowStride;
    const r1 = cy.i1[oy]! * rowStride;
    const fy = cy.f[oy]!;
    for (let ox = 0; ox < size; ox++) {
      const c0 = cx.i0[ox]! * 3;
      const c1 = cx.i1[ox]! * 3;
      const fx = cx.f[ox]!;
      for (let ch = 0; ch < 3; ch++) {
        const a = src[r0 + c0 + ch]!;
        const b = src[r0 + c1 + ch]!;
        const c = src[r1 + c0 + ch]!;
        const d = src[r1 + c1 + ch]!;
        const top = a + (b - a) * fx;
        const bot = c + (d - c) * fx;
        out[o++] = top + (bot - top) * fy;
      }
    }
  }
}
