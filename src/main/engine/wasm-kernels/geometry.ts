// Padding arithmetic shared by the gradient kernels, which all re-express a gradient as a forward
// (depthwise) convolution that XNNPACK runs.
import * as tf from '@tensorflow/tfjs';
import type { Scope } from './util.js';

export type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** Explicit NHWC padding for Conv2D / DepthwiseConv2dNative attrs. */
export function explicitPad(top: number, bottom: number, left: number, right: number): [[number, number], [number, number], [number, number], [number, number]] {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * x zero-padded so that every window of the convolution lies inside (rows and columns past the
 * last window are not added), with its padded height and width; x itself where no pad is needed.
 */
export function paddedForWindows(s: Scope, x: tf.TensorInfo, info: ConvInfo): { xp: tf.TensorInfo; hp: number; wp: number } {
  const { inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const pb = Math.max(0, (oh - 1) * sh + kh - h - pt);
  const pr = Math.max(0, (ow - 1) * sw + kw - w - pl);
  const xp = pt || pb || pl || pr ? s.run('PadV2', { x }, { paddings: explicitPad(pt, pb, pl, pr), constantValue: 0 }) : x;
  return { xp, hp: h + pt + pb, wp: w + pl + pr };
}

/**
 * Crops axes 1 and 2 of a rank-4 tensor where a padding came out negative (a convolution with
 * negative padding is one on a cropped input) and returns the non-negative paddings left.
 */
export function cropNegativePads(
  s: Scope,
  x: tf.TensorInfo,
  pads: { top: number; bottom: number; left: number; right: number },
): { x: tf.TensorInfo; top: number; bottom: number; left: number; right: number } {
  const { top, bottom, left, right } = pads;
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) return { x, ...pads };
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const cutT = Math.max(0, -top);
  const cutB = Math.max(0, -bottom);
  const cutL = Math.max(0, -left);
  const cutR = Math.max(0, -right);
  const cropped = s.run('Slice', { x }, { begin: [0, cutT, cutL, 0], size: [n, h - cutT - cutB, w - cutL - cutR, c] });
  return { x: cropped, top: Math.max(0, top), bottom: Math.max(0, bottom), left: Math.max(0, left), right: Math.max(0, right) };
}

/**
 * Inserts stride−1 zeros after every row and column of an NHWC tensor ("fractionally strided"
 * input of a transposed convolution): [B,H,W,C] → [B,H·sh,W·sw,C]. The trailing zeros are
 * harmless: callers subtract them from the bottom/right padding.
 */
export function upsampleZeros(s: Scope, x: tf.TensorInfo, sh: number, sw: number): tf.TensorInfo {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const x6 = s.reshape(x, [n, h, 1, w, 1, c]);
  const padded = s.run(
    'PadV2',
    { x: x6 },
    {
      paddings: [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  return s.reshape(padded, [n, h * sh, w * sw, c]);
}

/**
 * The input gradient of a convolution is a stride-1 convolution of the zero-upsampled dy with the
 * spatially flipped filter. Returns that upsampled dy (cropped where needed) and its padding.
 */
export function transposedConvInput(s: Scope, dy: tf.TensorInfo, info: ConvInfo) {
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const up = upsampleZeros(s, dy, sh, sw);
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  // Output rows must come to inHeight: up.rows + top + bottom − kh + 1 = inHeight.
  const bottom = info.inHeight - info.outHeight * sh - top + kh - 1;
  const right = info.inWidth - info.outWidth * sw - left + kw - 1;
  return cropNegativePads(s, up, { top, bottom, left, right });
}
