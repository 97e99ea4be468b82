// A small BMP decoder: sharp's prebuilt libvips has no BMP loader, and BMP is simple enough to read
// here. Covers what cameras, scanners and Windows tools write: 1/4/8-bit palette, 16/24/32-bit,
// BI_RGB and BI_BITFIELDS, bottom-up and top-down. RLE-compressed BMPs are refused with a reason.

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

export class BmpError extends Error {
  override name = 'BmpError';
}

export function isBmp(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d;
}

export interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
  compression: number;
  topDown: boolean;
}

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

/** Reads the header only (dimensions for the decompression-bomb check before any allocation). */
export function readBmpHeader(buf: Buffer): BmpHeader {
  if (!isBmp(buf)) throw new BmpError('not a BMP file');
  if (buf.length < 26) throw new BmpError('truncated BMP header');
  const dibSize = buf.readUInt32LE(14);
  if (dibSize === 12) {
    return { width: buf.readUInt16LE(18), height: buf.readUInt16LE(20), bitsPerPixel: buf.readUInt16LE(24), compression: BI_RGB, topDown: false };
  }
  if (dibSize < 40 || buf.length < 14 + 40) throw new BmpError(`unsupported BMP header (size ${dibSize})`);
  const width = buf.readInt32LE(18);
  const rawHeight = buf.readInt32LE(22);
  return {
    width,
    height: Math.abs(rawHeight),
    bitsPerPixel: buf.readUInt16LE(28),
    compression: buf.readUInt32LE(30),
    topDown: rawHeight < 0,
  };
}

function maskShift(mask: number): { shift: number; max: number } {
  if (mask === 0) return { shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { shift, max: mask >>> shift };
}

/** Decodes to 8-bit RGB (RGBA when the file carries a non-trivial alpha channel). */
export function decodeBmp(buf: Buffer, maxPixels = Number.POSITIVE_INFINITY): RawImage {
  const h = readBmpHeader(buf);
  const { width, height, bitsPerPixel: bpp, compression } = h;
  if (width <= 0 || height <= 0) throw new BmpError(`invalid BMP dimensions ${width}×${height}`);
  if (width * height > maxPixels) throw new BmpError(`BMP of ${width}×${height} pixels exceeds the pixel limit`);
  if (compression === BI_RLE8 || compression === BI_RLE4) throw new BmpError('RLE-compressed BMP is not supported');
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw new BmpError(`BMP compression ${compression} is not supported`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new BmpError(`BMP with ${bpp} bits per pixel is not supported`);

  const dibSize = buf.readUInt32LE(14);
  const core = dibSize === 12;
  const dataOffset = buf.readUInt32LE(10);

  // Channel masks: in the V3+ header, or right after a 40-byte header for BI_BITFIELDS.
  let masks: [number, number, number, number] | null = null;
  if (bpp === 16 || bpp === 32) {
    if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
      const at = 14 + 40;
      if (buf.length < at + 12) throw new BmpError('truncated BMP header');
      const alpha = dibSize >= 56 || compression === BI_ALPHABITFIELDS ? buf.readUInt32LE(at + 12) : 0;
      masks = [buf.readUInt32LE(at), buf.readUInt32LE(at + 4), buf.readUInt32LE(at + 8), alpha];
    } else if (bpp === 16) {
      masks = [0x7c00, 0x03e0, 0x001f, 0];
    } else {
      // BI_RGB 32-bit: the fourth byte is nominally unused; V4/V5 headers may declare it alpha.
      const alpha = dibSize >= 56 ? buf.readUInt32LE(14 + 52) : 0;
      masks = [0x00ff0000, 0x0000ff00, 0x000000ff, alpha];
    }
  }

  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const entrySize = core ? 3 : 4;
    const colorsUsed = core ? 0 : buf.readUInt32LE(46);
    const count = colorsUsed || 1 << bpp;
    const start = 14 + dibSize + (compression === BI_BITFIELDS && dibSize === 40 ? 12 : 0);
    if (buf.length < start + count * entrySize) throw new BmpError('truncated BMP palette');
    palette = new Uint8Array(count * 3);
    for (let i = 0; i < count; i++) {
      palette[i * 3] = buf[start + i * entrySize + 2]!;
      palette[i * 3 + 1] = buf[start + i * entrySize + 1]!;
      palette[i * 3 + 2] = buf[start + i * entrySize]!;
    }
  }

  const rowBytes = Math.floor((bpp * width + 31) / 32) * 4;
  if (dataOffset + rowBytes * height > buf.length) throw new BmpError('truncated BMP pixel data');

  const channels: 3 | 4 = masks && masks[3] !== 0 ? 4 : 3;
  const out = Buffer.alloc(width * height * channels);
  const m = masks?.map(maskShift);
  let anyAlpha = false;

  for (let y = 0; y < height; y++) {
    const srcRow = dataOffset + (h.topDown ? y : height - 1 - y) * rowBytes;
    const dstRow = y * width * channels;
    for (let x = 0; x < width; x++) {
      const d = dstRow + x * channels;
      if (palette) {
        const bitPos = x * bpp;
        const byte = buf[srcRow + (bitPos >> 3)]!;
        const idx = bpp === 8 ? byte : (byte >> (8 - bpp - (bitPos & 7))) & ((1 << bpp) - 1);
        if (idx * 3 + 2 >= palette.length) throw new BmpError('BMP palette index out of range');
        out[d] = palette[idx * 3]!;
        out[d + 1] = palette[idx * 3 + 1]!;
        out[d + 2] = palette[idx * 3 + 2]!;
      } else if (bpp === 24) {
        const s = srcRow + x * 3;
        out[d] = buf[s + 2]!;
        out[d + 1] = buf[s + 1]!;
        out[d + 2] = buf[s]!;
      } else {
        const px = bpp === 16 ? buf.readUInt16LE(srcRow + x * 2) : buf.readUInt32LE(srcRow + x * 4);
        for (let c = 0; c < channels; c++) {
          const { shift, max } = m![c]!;
          out[d + c] = max === 0 ? 0 : Math.round((((px & masks![c]!) >>> shift) * 255) / max);
        }
        if (channels === 4 && out[d + 3] !== 0) anyAlpha = true;
      }
    }
  }
  // A declared alpha channel that is zero everywhere means "unused", not "fully transparent".
  if (channels === 4 && !anyAlpha) {
    const rgb = Buffer.alloc(width * height * 3);
    for (let i = 0, j = 0; i < out.length; i += 4, j += 3) {
      rgb[j] = out[i]!;
      rgb[j + 1] = out[i + 1]!;
      rgb[j + 2] = out[i + 2]!;
    }
    return { data: rgb, width, height, channels: 3 };
  }
  return { data: out, width, height, channels };
}
