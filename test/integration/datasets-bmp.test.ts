import { describe, expect, it } from 'vitest';
import { decodeBmp, readBmpHeader } from '../../src/main/datasets/bmp.js';
import { openImage } from '../../src/main/datasets/image-open.js';
import { probeImage } from '../../src/main/datasets/probe.js';

type RGBA = [number, number, number, number];

/** Writes a BMP by the book (BITMAPINFOHEADER or V4), independent of the decoder under test. */
function writeBmp(opts: {
  width: number;
  height: number;
  bpp: 1 | 4 | 8 | 16 | 24 | 32;
  topDown?: boolean;
  palette?: [number, number, number][];
  masks?: [number, number, number, number];
  compression?: number;
  pixel: (x: number, y: number) => number | RGBA;
}): Buffer {
  const { width, height, bpp } = opts;
  const v4 = opts.masks !== undefined;
  const dib = v4 ? 108 : 40;
  const paletteBytes = (opts.palette?.length ?? 0) * 4;
  const rowBytes = Math.floor((bpp * width + 31) / 32) * 4;
  const offset = 14 + dib + paletteBytes;
  const buf = Buffer.alloc(offset + rowBytes * height);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(offset, 10);
  buf.writeUInt32LE(dib, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(opts.topDown ? -height : height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bpp, 28);
  buf.writeUInt32LE(opts.compression ?? (v4 ? 3 : 0), 30);
  buf.writeUInt32LE(opts.palette?.length ?? 0, 46);
  if (v4) opts.masks!.forEach((m, i) => buf.writeUInt32LE(m, 54 + i * 4));
  opts.palette?.forEach(([r, g, b], i) => {
    buf[14 + dib + i * 4] = b;
    buf[14 + dib + i * 4 + 1] = g;
    buf[14 + dib + i * 4 + 2] = r;
  });
  for (let y = 0; y < height; y++) {
    const row = offset + (opts.topDown ? y : height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const v = opts.pixel(x, y);
      if (bpp <= 8) {
        const bit = x * bpp;
        buf[row + (bit >> 3)] |= (v as number) << (8 - bpp - (bit & 7));
      } else if (bpp === 24) {
        const [r, g, b] = v as RGBA;
        buf[row + x * 3] = b;
        buf[row + x * 3 + 1] = g;
        buf[row + x * 3 + 2] = r;
      } else if (bpp === 32) {
        const [r, g, b, a] = v as RGBA;
        buf.writeUInt32LE(((a << 24) | (r << 16) | (g << 8) | b) >>> 0, row + x * 4);
      } else {
        buf.writeUInt16LE(v as number, row + x * 2);
      }
    }
  }
  return buf;
}

const rgbAt = (img: { data: Buffer; width: number; channels: number }, x: number, y: number) =>
  [...img.data.subarray((y * img.width + x) * img.channels, (y * img.width + x + 1) * img.channels)];

describe('BMP decoding', () => {
  it('reads 24-bit bottom-up and top-down files', () => {
    for (const topDown of [false, true]) {
      const f = (x: number, y: number): RGBA => [x * 40, y * 60, 200 - x, 0];
      const img = decodeBmp(writeBmp({ width: 5, height: 3, bpp: 24, topDown, pixel: f }));
      expect(img).toMatchObject({ width: 5, height: 3, channels: 3 });
      for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) expect(rgbAt(img, x, y)).toEqual(f(x, y).slice(0, 3));
    }
  });

  it('reads 1-, 4- and 8-bit palette files', () => {
    const palette: [number, number, number][] = Array.from({ length: 16 }, (_, i) => [i * 16, 255 - i * 16, i]);
    for (const bpp of [1, 4, 8] as const) {
      const n = 1 << Math.min(bpp, 4);
      const idx = (x: number, y: number) => (x + 2 * y) % n;
      const img = decodeBmp(writeBmp({ width: 7, height: 4, bpp, palette: palette.slice(0, n), pixel: idx }));
      for (let y = 0; y < 4; y++) for (let x = 0; x < 7; x++) expect(rgbAt(img, x, y)).toEqual(palette[idx(x, y)]);
    }
  });

  it('reads 32-bit BITFIELDS with alpha, and 16-bit 5-5-5', () => {
    const f = (x: number, y: number): RGBA => [x * 50, 10, y * 70, 255 - x * 60];
    const img = decodeBmp(writeBmp({ width: 4, height: 3, bpp: 32, masks: [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000], pixel: f }));
    expect(img.channels).toBe(4);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) expect(rgbAt(img, x, y)).toEqual(f(x, y));

    // 5-5-5: full-scale 31 maps to 255, 0 to 0.
    const px = (x: number) => (x === 0 ? 31 << 10 : x === 1 ? 31 << 5 : 31);
    const img16 = decodeBmp(writeBmp({ width: 3, height: 1, bpp: 16, pixel: px }));
    expect([rgbAt(img16, 0, 0), rgbAt(img16, 1, 0), rgbAt(img16, 2, 0)]).toEqual([
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
    ]);
  });

  it('refuses RLE, truncation and oversized files with a reason', async () => {
    const good = writeBmp({ width: 4, height: 4, bpp: 8, palette: [[0, 0, 0]], pixel: () => 0 });
    const rle = Buffer.from(good);
    rle.writeUInt32LE(1, 30);
    expect(() => decodeBmp(rle)).toThrow(/RLE/);
    expect(() => decodeBmp(good.subarray(0, good.length - 5))).toThrow(/truncated/);
    const huge = Buffer.from(good);
    huge.writeInt32LE(200_000, 18);
    huge.writeInt32LE(200_000, 22);
    expect(readBmpHeader(huge)).toMatchObject({ width: 200_000, height: 200_000 });
    expect(await probeImage(huge)).toEqual({ ok: false, reason: 'decompression bomb: 200000×200000 pixels exceeds the 100 MP limit' });
    expect(await probeImage(rle)).toEqual({ ok: false, reason: 'unreadable BMP: RLE-compressed BMP is not supported' });
  });

  it('opens through sharp like any other image', async () => {
    const bmp = writeBmp({ width: 6, height: 2, bpp: 24, pixel: (x, y) => [x * 40, y * 200, 9, 0] });
    const { data, info } = await openImage(bmp).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 6, height: 2, channels: 3 });
    expect([...data.subarray(0, 6)]).toEqual([0, 0, 9, 40, 0, 9]);
    expect([...data.subarray(18, 21)]).toEqual([0, 200, 9]);
  });
});
