// One way to open any image file the app accepts as a sharp pipeline: BMP through our decoder (the
// prebuilt libvips has no BMP loader), everything else natively. GIFs open at their first frame.
import sharp from 'sharp';
import { decodeBmp, isBmp } from './bmp.js';

/** Larger images are refused as decompression bombs (100 MP: above any phone camera's output). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Formats read natively; BMP is added by our decoder. */
export const SHARP_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff']);

export interface OpenOptions {
  maxPixels?: number;
  /** libvips strictness: 'warning' (default) also refuses JPEGs with corrupt entropy data. */
  failOn?: 'none' | 'truncated' | 'error' | 'warning';
}

export function openImage(buf: Buffer, opts: OpenOptions = {}): sharp.Sharp {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (isBmp(buf)) {
    const raw = decodeBmp(buf, maxPixels);
    return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
  }
  return sharp(buf, { failOn: opts.failOn ?? 'warning', limitInputPixels: maxPixels, animated: false });
}
