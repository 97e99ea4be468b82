// The patched DepthwiseConv2D (one fused kernel) against tfjs-layers' own call: outputs at
// inference and gradients under a tape, on wasm and cpu.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { originalDepthwiseCall } from '../../src/main/engine/models/fast-depthwise.js';

type Case = { activation: 'relu' | 'relu6' | 'linear'; useBias: boolean; strides: number; padding: 'same' | 'valid'; multiplier: number };
const cases: Case[] = [
  { activation: 'relu', useBias: true, strides: 2, padding: 'valid', multiplier: 1 },
  { activation: 'relu6', useBias: true, strides: 1, padding: 'same', multiplier: 1 },
  { activation: 'linear', useBias: false, strides: 1, padding: 'valid', multiplier: 2 },
  { activation: 'relu', useBias: false, strides: 2, padding: 'same', multiplier: 1 },
];

function layerFor(c: Case, seed: number): tf.layers.Layer {
  const layer = tf.layers.depthwiseConv2d({
    kernelSize: 3, strides: c.strides, padding: c.padding, depthMultiplier: c.multiplier, useBias: c.useBias, activation: c.activation,
    depthwiseInitializer: tf.initializers.randomNormal({ seed }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 1 }),
  });
  layer.build([2, 9, 8, 4]);
  return layer;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`fused DepthwiseConv2D on ${backend}`, () => {
    it.each(cases)('equals tfjs-layers: $activation bias $useBias stride $strides $padding ×$multiplier', async (c) => {
      if (backend === 'wasm') await initBackend({ force: 'wasm', threads: 1 });
      else await tf.setBackend('cpu');
      const layer = layerFor(c, 7);
      const original = originalDepthwiseCall()!;
      expect(original).not.toBeNull();
      // Activations straddle 0 and 6 so that every activation's clamp is exercised.
      const x = tf.randomNormal([2, 9, 8, 4], 1, 3, 'float32', 3);
      const viaOriginal = (v: tf.Tensor) => original.call(layer as never, v, {}) as tf.Tensor;
      const viaPatched = (v: tf.Tensor) => layer.call(v, {}) as tf.Tensor;
      const a = tf.tidy(() => viaOriginal(x).dataSync().slice());
      const b = tf.tidy(() => viaPatched(x).dataSync().slice());
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 4);
      // Gradients w.r.t. the input and every weight, with a non-uniform upstream gradient.
      const weights = layer.trainableWeights.map((w) => w.read());
      const grads = (f: (v: tf.Tensor) => tf.Tensor) =>
        tf.tidy(() => {
          const dy = tf.randomNormal(f(x).shape, 0, 1, 'float32', 5);
          const g = tf.variableGrads(() => tf.sum(tf.mul(f(x), dy)) as tf.Scalar, layer.trainableWeights.map((w) => w.read() as tf.Variable));
          const gx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), dy)))(x);
          return [gx, ...Object.values(g.grads)].map((t) => t.dataSync().slice());
        });
      const ga = grads(viaOriginal);
      const gb = grads(viaPatched);
      expect(gb.length).toBe(1 + weights.length);
      ga.forEach((arr, k) => {
        const m = Math.max(...Array.from(arr, Math.abs));
        expect(m).toBeGreaterThan(0);
        for (let i = 0; i < arr.length; i++) expect(Math.abs(gb[k]![i]! - arr[i]!) / m).toBeLessThan(1e-5);
      });
      x.dispose();
      tf.dispose(weights); // the layer itself was never applied symbolically, so it cannot be disposed
    });
  });
}
