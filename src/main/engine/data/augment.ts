// Training views: seeded random-resized-crop + horizontal flip, rendered (render.ts) with bilinear
// sampling from the stored uint8 square straight into a Float32 batch slot (values stay in [0,255];
// models normalize inside). A view is plain data in coordinates normalized to the stored square, so
// it can be recorded and replayed at another size (a teacher at 224 sees the student's 96-pixel crop).
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

export { renderView } from './render.js';
