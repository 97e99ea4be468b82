// TF.js weight quantization (export/quantize.ts): what tfjs's loader reads back.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { quantizeWeights } from '../../src/main/engine/export/quantize.js';

function encode(tensors: Record<string, tf.Tensor>) {
  const specs: tf.io.WeightsManifestEntry[] = Object.entries(tensors).map(([name, t]) => ({ name, shape: t.shape, dtype: 'float32' }));
  const parts = Object.values(tensors).map((t) => t.dataSync() as Float32Array);
  const data = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { specs, data: data.buffer };
}

describe('uint8 weight quantization', () => {
  it('quantizes kernels per tensor and keeps vectors (bias, BatchNorm statistics) in float32', () => {
    const kernel = tf.randomNormal([3, 3, 4, 8], 0, 0.2, 'float32', 1);
    // Variances spanning decades: per-tensor uint8 would round the small ones to the minimum.
    const variance = tf.tensor1d([1e-4, 3e-3, 0.05, 2, 40]);
    const bias = tf.tensor1d([0.1, -0.2, 0.3]);
    const { specs, data } = encode({ kernel, variance, bias });
    const q = quantizeWeights(specs, data, 'uint8');
    expect(q.specs.map((s) => s.quantization?.dtype ?? 'float32')).toEqual(['uint8', 'float32', 'float32']);
    const back = tf.io.decodeWeights(q.data, q.specs);
    expect(Array.from(back['variance']!.dataSync())).toEqual(Array.from(variance.dataSync()));
    expect(Array.from(back['bias']!.dataSync())).toEqual(Array.from(bias.dataSync()));
    // The kernel comes back within half a step of its range.
    const k = kernel.dataSync();
    const step = (Math.max(...k) - Math.min(...k)) / 255;
    const kb = back['kernel']!.dataSync();
    let worst = 0;
    for (let i = 0; i < k.length; i++) worst = Math.max(worst, Math.abs(kb[i]! - k[i]!));
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(step / 2 + 1e-6);
    expect(q.data.byteLength).toBe(k.length + 4 * (5 + 3));
    tf.dispose([kernel, variance, bias, ...Object.values(back)]);
  });

  it('float16 halves every float32 tensor, vectors included', () => {
    const { specs, data } = encode({ w: tf.ones([4, 4]), b: tf.ones([4]) });
    const q = quantizeWeights(specs, data, 'float16');
    expect(q.specs.map((s) => s.quantization?.dtype)).toEqual(['float16', 'float16']);
    expect(q.data.byteLength).toBe(2 * (16 + 4));
  });
});
