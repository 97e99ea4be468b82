// Weight quantization in the TF.js weights-manifest format (tfjs dequantizes on load): uint8 affine
// (min + q·scale per tensor) or float16. Only float32 tensors are quantized.
import type * as tf from '@tensorflow/tfjs';

export type Quantize = 'none' | 'float16' | 'uint8';

/** IEEE 754 half from a float32 (round to nearest even), as its 16 bits. */
export function float32ToFloat16Bits(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function quantizeWeights(
  specs: tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
  mode: Quantize,
): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  if (mode === 'none') return { specs, data };
  const parts: Uint8Array[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = n * 4; // every weight here is float32 or int32
    const src = data.slice(offset, offset + bytes);
    offset += bytes;
    if (spec.dtype !== 'float32') {
      parts.push(new Uint8Array(src));
      outSpecs.push(spec);
      continue;
    }
    const v = new Float32Array(src);
    if (mode === 'float16') {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = float32ToFloat16Bits(v[i]!);
      parts.push(new Uint8Array(out.buffer));
      outSpecs.push({ ...spec, quantization: { dtype: 'float16', original_dtype: 'float32' } as tf.io.WeightsManifestEntry['quantization'] });
    } else {
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < n; i++) {
        min = Math.min(min, v[i]!);
        max = Math.max(max, v[i]!);
      }
      const scale = max > min ? (max - min) / 255 : 1;
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.round((v[i]! - min) / scale);
      parts.push(out);
      outSpecs.push({ ...spec, quantization: { dtype: 'uint8', min, scale, original_dtype: 'float32' } as tf.io.WeightsManifestEntry['quantization'] });
    }
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const joined = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    joined.set(p, o);
    o += p.length;
  }
  return { specs: outSpecs, data: joined.buffer };
}
