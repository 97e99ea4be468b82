// Weight quantization in the TF.js weights-manifest format (tfjs dequantizes on load): uint8 affine
// (min + q·scale per tensor) or float16. Only float32 tensors are quantized, and uint8 leaves vectors
// (biases, BatchNorm's γ, β and statistics) in float32: the format has one scale per tensor, a
// BatchNorm's variances span decades so 256 levels erase the small ones, and vectors are a few
// percent of the bytes (the demo's student: 518 → 577 KiB, agreement with the float student on its
// val images 95.8% → 100%).
import type * as tf from '@tensorflow/tfjs';
import { float32ToFloat16Bits } from '../data/float16.js';

export type Quantize = 'none' | 'float16' | 'uint8';

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
    if (spec.dtype !== 'float32' || (mode === 'uint8' && spec.shape.length < 2)) {
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
