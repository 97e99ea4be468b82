// int8 quantization helpers against the TFLite int8 spec's definitions, checked element by element:
// real = scale·(q − zeroPoint); activations asymmetric with 0 exact; weights symmetric in [−127,127]
// per output channel; int32 bias with scale inputScale·weightScale.
import { describe, expect, it } from 'vitest';
import {
  activationParams, calibrateRanges, calibrateRangesWithModel, quantizeBias, quantizeSymmetricPerChannel, quantizeSymmetricPerTensor, quantizeValue,
} from '../../src/main/engine/export/calibrate.js';
import type { ExportGraph } from '../../src/main/engine/export/graph.js';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { createModel } from '../../src/main/engine/models/index.js';
import { lowerModel } from '../../src/main/engine/export/lower.js';

describe('int8 quantization helpers', () => {
  it('activation parameters cover the range, hold 0 exactly and round-trip within half a step', () => {
    for (const r of [{ min: -1, max: 1 }, { min: 0, max: 6 }, { min: 0.5, max: 3 }, { min: -7.3, max: -0.2 }]) {
      const p = activationParams(r);
      expect(Number.isInteger(p.zeroPoint)).toBe(true);
      expect(p.zeroPoint).toBeGreaterThanOrEqual(-128);
      expect(p.zeroPoint).toBeLessThanOrEqual(127);
      expect(quantizeValue(0, p)).toBe(p.zeroPoint); // zero exact: zero padding stays zero
      for (const v of [Math.min(r.min, 0), Math.max(r.max, 0), (r.min + r.max) / 2]) {
        const q = quantizeValue(v, p);
        expect(Math.abs(p.scale * (q - p.zeroPoint) - v)).toBeLessThanOrEqual(p.scale / 2 + 1e-6);
      }
    }
    // [0,6] (ReLU6): 255 steps over 6, zero point −128.
    expect(activationParams({ min: 0, max: 6 })).toEqual({ scale: Math.fround(6 / 255), zeroPoint: -128 });
  });

  it('per-channel weights: one scale per last-axis channel, |q| ≤ 127, each channel within half its step', () => {
    // [KH=1, KW=2, Cin=1, Cout=3]: channel c is every third value.
    const w = Float32Array.from([0.5, -2, 0, -0.25, 1, 0]);
    const { q, scales } = quantizeSymmetricPerChannel(w, 3);
    expect(Array.from(scales)).toEqual([Math.fround(0.5 / 127), Math.fround(2 / 127), Math.fround(1e-9)]);
    expect(Array.from(q)).toEqual([127, -127, 0, -64, 64, 0]);
    for (let i = 0; i < w.length; i++) expect(Math.abs(q[i]! * scales[i % 3]! - w[i]!)).toBeLessThanOrEqual(scales[i % 3]! / 2 + 1e-9);
    const t = quantizeSymmetricPerTensor(w);
    expect(t.scale).toBe(Math.fround(2 / 127));
    expect(Array.from(t.q)).toEqual([32, -127, 0, -16, 64, 0]);
  });

  it('int32 bias: scale is inputScale × weightScale per channel, zero point 0', () => {
    const { q, scales } = quantizeBias(Float32Array.from([0.1, -0.3]), 0.02, [0.5, 0.25]);
    expect(Array.from(scales)).toEqual([Math.fround(0.01), Math.fround(0.005)]);
    expect(Array.from(q)).toEqual([10, -60]);
  });

  it('calibration records each value\'s min and max over all batches', () => {
    const graph: ExportGraph = {
      input: { name: 'x', size: 1, channels: 3 },
      ops: [
        { kind: 'affine', name: 'n', input: 'x', output: 'y', scale: Float32Array.of(2), offset: Float32Array.of(-1) },
        { kind: 'gap', name: 'g', input: 'y', output: 'p' },
        { kind: 'softmax', name: 's', input: 'p', output: 'prob' },
      ],
      output: { name: 'prob', classes: 3 },
      shapes: { x: [1, 1, 3], y: [1, 1, 3], p: [3], prob: [3] },
    };
    const r = calibrateRanges(graph, [{ x: Float32Array.of(0, 1, 2), n: 1 }, { x: Float32Array.of(3, -1, 0.5, 0, 0, 0), n: 2 }]);
    expect(r.get('x')).toEqual({ min: -1, max: 3 });
    expect(r.get('y')).toEqual({ min: -3, max: 5 });
    expect(() => calibrateRanges(graph, [])).toThrow(/at least one image/);
  });

  it('ranges from tfjs layer outputs equal the reference interpreter\'s', async () => {
    await initBackend({ threads: 1 });
    for (const spec of [{ arch: 'refnet' as const }, { arch: 'mobilenet_v2' as const, width: 0.35 }]) {
      const model = createModel({ ...spec, inputSize: 32, classes: 3, seed: 2 });
      const graph = lowerModel(model);
      const batches = [1, 2].map((seed) => ({ x: tf.randomUniform([3, 32, 32, 3], 0, 255, 'float32', seed).dataSync() as Float32Array, n: 3 }));
      const fast = calibrateRangesWithModel(model, graph, batches)!;
      const slow = calibrateRanges(graph, batches);
      expect(fast).not.toBeNull();
      for (const op of graph.ops) {
        if (op.kind === 'softmax') continue;
        const [a, b] = [fast.get(op.output)!, slow.get(op.output)!];
        const tol = 1e-3 * Math.max(1, Math.abs(b.max), Math.abs(b.min));
        expect(Math.abs(a.min - b.min)).toBeLessThanOrEqual(tol);
        expect(Math.abs(a.max - b.max)).toBeLessThanOrEqual(tol);
      }
      model.dispose();
    }
  }, 60_000);
});
