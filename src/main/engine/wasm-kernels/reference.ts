// Plain loops over heap views for depthwise gradients: the general case (any stride, padding,
// dilation, channel multiplier). Accumulation in doubles.
import type { ConvInfo } from './geometry.js';

/** dW[kh,kw,c,m] = Σ_{b,oy,ox} x[b, oy·sh+kh·dh−pt, ox·sw+kw·dw−pl, c] · dy[b,oy,ox,c·M+m] */
export function depthwiseFilterGradJs(x: Float32Array, dy: Float32Array, out: Float32Array, info: ConvInfo): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, outChannels: cm } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const m = cm / c;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const acc = new Float64Array(kh * kw * cm);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh + ky * dh - pt;
        if (iy < 0 || iy >= h) continue;
        const xRow = (b * h + iy) * w;
        const dyRow = ((b * oh + oy) * ow) * cm;
        for (let ox = 0; ox < ow; ox++) {
          const dyBase = dyRow + ox * cm;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx * dw - pl;
            if (ix < 0 || ix >= w) continue;
            const xBase = (xRow + ix) * c;
            const aBase = (ky * kw + kx) * cm;
            if (m === 1) {
              for (let ch = 0; ch < c; ch++) acc[aBase + ch]! += x[xBase + ch]! * dy[dyBase + ch]!;
            } else {
              for (let ch = 0; ch < c; ch++) {
                const xv = x[xBase + ch]!;
                for (let q = 0; q < m; q++) acc[aBase + ch * m + q]! += xv * dy[dyBase + ch * m + q]!;
              }
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < acc.length; i++) out[i] = acc[i]!;
}

/** dx[b,iy,ix,c] = Σ_{ky,kx,m} dy[b,oy,ox,c·M+m] · W[ky,kx,c,m] over (oy,ox) with oy·sh+ky·dh−pt = iy. */
export function depthwiseInputGradJs(dy: Float32Array, filter: Float32Array, out: Float32Array, info: ConvInfo): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, outChannels: cm } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const m = cm / c;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const acc = new Float64Array(n * h * w * c);
  // Scatter form: every dy element adds into the inputs its window covered.
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const dyBase = ((b * oh + oy) * ow + ox) * cm;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky * dh - pt;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx * dw - pl;
            if (ix < 0 || ix >= w) continue;
            const aBase = ((b * h + iy) * w + ix) * c;
            const fBase = (ky * kw + kx) * cm;
            for (let ch = 0; ch < c; ch++) {
              let sum = 0;
              for (let q = 0; q < m; q++) sum += dy[dyBase + ch * m + q]! * filter[fBase + ch * m + q]!;
              acc[aBase + ch]! += sum;
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < acc.length; i++) out[i] = acc[i]!;
}
