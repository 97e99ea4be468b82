// Validates one image file's bytes: header, format, pixel count, then a full decode (to a small
// output) so that truncated and corrupt data are caught at import, not in the middle of training.
import sharp from 'sharp';
import { BmpError, decodeBmp, isBmp, readBmpHeader } from './bmp.js';
import { DEFAULT_MAX_PIXELS, SHARP_FORMATS, openImage, type OpenOptions } from './image-open.js';

export type ProbeResult =
  | { ok: true; format: string; width: number; height: number }
  | { ok: false; reason: string };

function megapixels(n: number): string {
  return `${Math.round(n / 1e6)} MP`;
}

function bombReason(width: number, height: number, limit: number): string {
  return `decompression bomb: ${width}×${height} pixels exceeds the ${megapixels(limit)} limit`;
}

export async function probeImage(buf: Buffer, opts: OpenOptions = {}): Promise<ProbeResult> {
  const limit = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (buf.length === 0) return { ok: false, reason: 'empty file (0 bytes)' };

  if (isBmp(buf)) {
    try {
      const h = readBmpHeader(buf);
      if (h.width * h.height > limit) return { ok: false, reason: bombReason(h.width, h.height, limit) };
      const raw = decodeBmp(buf, limit);
      return { ok: true, format: 'bmp', width: raw.width, height: raw.height };
    } catch (e) {
      if (e instanceof BmpError) return { ok: false, reason: `unreadable BMP: ${e.message}` };
      throw e;
    }
  }

  let meta: sharp.Metadata;
  try {
    // No pixel limit here: the header's dimensions are checked below with a clearer message.
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (e) {
    const msg = (e as Error).message;
    if (/unsupported image format/i.test(msg)) return { ok: false, reason: 'not an image (content is not a recognized image format)' };
    return { ok: false, reason: `unreadable image header: ${msg}` };
  }
  const format = meta.format ?? 'unknown';
  if (!SHARP_FORMATS.has(format)) return { ok: false, reason: `unsupported image format "${format}"` };
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width <= 0 || height <= 0) return { ok: false, reason: `invalid dimensions ${width}×${height}` };
  if (width * height > limit) return { ok: false, reason: bombReason(width, height, limit) };

  try {
    // Shrink-on-load is off: JPEG's DCT-domain downscaling skips the checks that catch corrupt data.
    // libvips streams the decode in strips, so even a large photo never sits whole in memory here.
    await openImage(buf, opts).resize(64, 64, { fit: 'inside', withoutEnlargement: true, fastShrinkOnLoad: false }).raw().toBuffer();
  } catch (e) {
    // libvips sometimes reports only "Warning treated as error…" (its message buffer is per thread),
    // and libjpeg says "premature end" for damaged data in a complete file too; so where the format has
    // an end marker, the file's structure decides truncated versus corrupt.
    const raw = (e as Error).message.replace(/\s+/g, ' ').trim();
    const msg = /treated as error/i.test(raw) ? 'the decoder reported damaged data' : raw;
    const truncated = HAS_END_MARKER.has(format)
      ? endsEarly(buf, format)
      : /premature end of (jpeg )?(image|file)|truncated|unexpected end of file/i.test(msg);
    if (truncated) return { ok: false, reason: `truncated image data (${msg})` };
    return { ok: false, reason: `corrupt image data (${msg})` };
  }
  // Stored dimensions are as displayed, i.e. after the EXIF orientation is applied.
  const oriented = meta.autoOrient ?? ((meta.orientation ?? 1) >= 5 ? { width: height, height: width } : { width, height });
  return { ok: true, format, width: oriented.width, height: oriented.height };
}

const HAS_END_MARKER = new Set(['jpeg', 'png', 'gif', 'webp']);

/** Whether the file stops before its format's end marker (JPEG EOI, PNG IEND, GIF trailer, RIFF size). */
export function endsEarly(buf: Buffer, format: string): boolean {
  const tail = buf.subarray(Math.max(0, buf.length - 64));
  switch (format) {
    case 'jpeg':
      return tail.lastIndexOf(Buffer.from([0xff, 0xd9])) < 0;
    case 'png':
      return tail.lastIndexOf(Buffer.from('IEND', 'latin1')) < 0;
    case 'gif':
      return tail.lastIndexOf(0x3b) < 0;
    case 'webp':
      return buf.length >= 12 && buf.readUInt32LE(4) + 8 > buf.length;
    default:
      return false;
  }
}
