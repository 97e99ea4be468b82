// Bilinear rendering of a crop view from a uint8 RGB square into a Float32 batch slot.
// Written as one self-contained factory (no imports, no outside names) because the same source text
// also runs inside the render worker (render-pool.ts), which gets it via Function.prototype.toString:
// one implementation on both sides, and it survives bundling and minification.

/** The crop to render, in [0,1] units of the source square (structurally a CropView). */
export interface RenderView {
  x: number;
  y: number;
  w: number;
  h: number;
  flip: boolean;
}

export type RenderFn = (src: Uint8Array, side: number, view: RenderView, size: number, out: Float32Array, offset?: number) => void;

export function makeRenderer(): RenderFn {
  interface Taps {
    i0: Int32Array;
    i1: Int32Array;
    f: Float32Array;
  }
  const newTaps = (n: number): Taps => ({ i0: new Int32Array(n), i1: new Int32Array(n), f: new Float32Array(n) });
  // Scratch reused across calls (rendering is synchronous, nothing interleaves): it runs per image
  // per step, and fresh small arrays each time are pure GC churn.
  let tapsX = newTaps(0);
  let tapsY = newTaps(0);
  let rowsScratch = new Float32Array(0);

  /**
   * Source taps for `size` output samples over [start, start+extent) (in source pixels), half-pixel
   * aligned like PyTorch's align_corners=False, clamped at the border. `scale` multiplies the indices.
   */
  const fillTaps = (t: Taps, start: number, extent: number, side: number, size: number, mirror: boolean, scale: number): void => {
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
      t.i0[o] = i0 * scale;
      t.i1[o] = i1 * scale;
      t.f[o] = f;
    }
  };

  /**
   * Separable bilinear: each source row the view touches is interpolated horizontally once, then
   * output rows blend two of those (≈2 lerps per value instead of 3, contiguous inner loops).
   * Integer-aligned views at scale 1 (like the center view) copy pixels exactly.
   */
  return (src, side, view, size, out, offset = 0) => {
    if (src.length !== side * side * 3) throw new Error(`renderView: expected ${side}x${side}x3 bytes, got ${src.length}`);
    if (offset + size * size * 3 > out.length) throw new Error('renderView: output slot out of range');
    if (tapsX.f.length < size) {
      tapsX = newTaps(size);
      tapsY = newTaps(size);
    }
    const cx = tapsX;
    const cy = tapsY;
    fillTaps(cx, view.x * side, view.w * side, side, size, view.flip, 3);
    fillTaps(cy, view.y * side, view.h * side, side, size, false, 1);
    const yLo = cy.i0[0]!;
    const yHi = cy.i1[size - 1]!;
    const rowLen = size * 3;
    const need = (yHi - yLo + 1) * rowLen;
    if (rowsScratch.length < need) rowsScratch = new Float32Array(need);
    const rows = rowsScratch;
    const i0 = cx.i0;
    const i1 = cx.i1;
    const fx = cx.f;
    for (let y = yLo; y <= yHi; y++) {
      const base = y * side * 3;
      let t = (y - yLo) * rowLen;
      for (let ox = 0; ox < size; ox++) {
        const a = base + i0[ox]!;
        const b = base + i1[ox]!;
        const f = fx[ox]!;
        const a0 = src[a]!;
        const a1 = src[a + 1]!;
        const a2 = src[a + 2]!;
        rows[t] = a0 + (src[b]! - a0) * f;
        rows[t + 1] = a1 + (src[b + 1]! - a1) * f;
        rows[t + 2] = a2 + (src[b + 2]! - a2) * f;
        t += 3;
      }
    }
    for (let oy = 0; oy < size; oy++) {
      const r0 = (cy.i0[oy]! - yLo) * rowLen;
      const r1 = (cy.i1[oy]! - yLo) * rowLen;
      const f = cy.f[oy]!;
      const o = offset + oy * rowLen;
      if (f === 0) {
        out.set(rows.subarray(r0, r0 + rowLen), o);
        continue;
      }
      for (let j = 0; j < rowLen; j++) {
        const top = rows[r0 + j]!;
        out[o + j] = top + (rows[r1 + j]! - top) * f;
      }
    }
  };
}

/**
 * Renders `view` of an HWC uint8 RGB square (side×side) as size×size×3 floats into out[offset…],
 * values in [0,255].
 */
export const renderView: RenderFn = makeRenderer();
