// Decoding files into uint8 RGB at training resolution (sharp / libvips, off the JS thread).
//
// Storage scheme: every image is kept as an L×L×3 square, L = round(size · 1.143), the short side
// resized to L and the long side center-cropped (the crop eval uses anyway). Why this shape:
// - the 14% margin leaves room for random crops, and resampling a crop of it to `size` is at most a
//   1.143× (×1.15 for extreme aspect) downscale, where bilinear sampling in JS is clean;
// - the eval view (short side to L, center size×size) is an exact sub-square of it, so the train
//   cache also serves evaluation and a teacher sees the very pixels the student saw;
// - fixed-size records keep the memory budget and the disk spill file simple.
// The price: parts of a non-square photo beyond the center square are never seen in training.
import sharp from 'sharp';

/** Margin of the stored square over the network input (the classic 256/224 ratio). */
export const TRAIN_MARGIN = 1.143;

/** Side of the stored training square for a network input of `size`. */
export function trainSide(size: number): number {
  return Math.round(size * TRAIN_MARGIN);
}

/** Top-left offset of the centered size×size eval window inside the stored square. */
export function centerOffset(side: number, size: number): number {
  return Math.floor((side - size) / 2);
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > 4096) {
    throw new Error(`image size must be an integer in 1..4096, got ${size}`);
  }
}

/** Forces 3 interleaved channels, whatever libvips handed back (defensive: sRGB output is normally 3). */
function toRgb(data: Buffer, pixels: number, channels: number): Uint8Array {
  if (channels === 3) return new Uint8Array(data.buffer, data.byteOffset, pixels * 3);
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    if (channels <= 2) {
      const v = data[p * channels]!;
      out[p * 3] = v;
      out[p * 3 + 1] = v;
      out[p * 3 + 2] = v;
    } else {
      out[p * 3] = data[p * channels]!;
      out[p * 3 + 1] = data[p * channels + 1]!;
      out[p * 3 + 2] = data[p * channels + 2]!;
    }
  }
  return out;
}

/** Reason text from whatever sharp threw. */
function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Decodes `path` to the stored training square: HWC uint8 RGB, side trainSide(size).
 * EXIF orientation applied, alpha flattened on white, grayscale / CMYK / 16-bit converted to sRGB.
 */
export async function decodeForTraining(path: string, size: number): Promise<Uint8Array> {
  checkSize(size);
  const side = trainSide(size);
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await sharp(path, { sequentialRead: true })
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      // cover = short side to `side`, long side center-cropped; JPEG shrink-on-load keeps big files cheap.
      .resize({ width: side, height: side, fit: 'cover', position: 'centre' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new Error(`cannot decode image ${path}: ${reason(e)}`);
  }
  const { width, height, channels } = out.info;
  if (width !== side || height !== side) {
    throw new Error(`cannot decode image ${path}: expected ${side}x${side} after resize, got ${width}x${height}`);
  }
  return toRgb(out.data, side * side, channels);
}

/** Copies the centered size×size window out of a stored side×side square. */
export function centerCrop(square: Uint8Array, side: number, size: number): Uint8Array {
  if (square.length !== side * side * 3) throw new Error(`centerCrop: expected ${side}x${side}x3 bytes, got ${square.length}`);
  if (size > side) throw new Error(`centerCrop: window ${size} larger than image ${side}`);
  const off = centerOffset(side, size);
  const out = new Uint8Array(size * size * 3);
  const rowBytes = size * 3;
  for (let y = 0; y < size; y++) {
    const src = ((y + off) * side + off) * 3;
    out.set(square.subarray(src, src + rowBytes), y * rowBytes);
  }
  return out;
}

/**
 * The standard eval transform: short side to round(size · 1.143), center crop size×size.
 * HWC uint8 RGB. Byte-identical to the center window of decodeForTraining(path, size).
 */
export async function decodeForEval(path: string, size: number): Promise<Uint8Array> {
  const square = await decodeForTraining(path, size);
  return centerCrop(square, trainSide(size), size);
}
