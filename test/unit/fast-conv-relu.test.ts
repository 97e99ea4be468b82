// Conv + bias + ReLU in training (models/fast-conv-relu.ts): outputs and gradients against
// tfjs-layers' own unfused path, for Conv2D and DepthwiseConv2D, on wasm and cpu.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { setFastConvRelu } from '../../src/main/engine/models/fast-conv-relu.js';
import '../../src/main/engine/models/index.js';

afterAll(() => setFastConvRelu(true));

type Case = { depthwise: boolean; strides: number; padding: 'same' | 'valid' };
const cases: Case[] = [
  { depthwise: false, strides: 1, padding: 'same' },
  { depthwise: false, strides: 2, padding: 'valid' },
  { depthwise: true, strides: 1, padding: 'same' },
  { depthwise: true, strides: 2, padding: 'valid' },
];

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`conv + bias + relu training path on ${backend}`, () => {
    it.each(cases)('equals tfjs-layers: depthwise $depthwise stride $strides $padding', async (c) => {
      if (backend === 'wasm') await initBackend({ force: 'wasm', threads: 1 });
      else await tf.setBackend('cpu');
      const init = { seed: 11 };
      const layer = c.depthwise
        ? tf.layers.depthwiseConv2d({ kernelSize: 3, strides: c.strides, padding: c.padding, activation: 'relu', depthwiseInitializer: tf.initializers.randomNormal(init), biasInitializer: tf.initializers.randomNormal({ seed: 12 }) })
        : tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: c.strides, padding: c.padding, activation: 'relu', kernelInitializer: tf.initializers.randomNormal(init), biasInitializer: tf.initializers.randomNormal({ seed: 12 }) });
      layer.build([2, 9, 10, 4]);
      const x = tf.randomNormal([2, 9, 10, 4], 0, 1, 'float32', 13);
      const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const run = (fast: boolean) => {
        setFastConvRelu(fast);
        return tf.tidy(() => {
          const f = (v: tf.Tensor) => layer.apply(v, { training: true }) as tf.Tensor;
          const y = f(x);
          const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 14);
          const { grads } = tf.variableGrads(() => tf.sum(tf.mul(f(x), dy)) as tf.Scalar, vars);
          const gx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), dy)))(x);
          return [y, gx, ...vars.map((v) => grads[v.name]!)].map((t) => t.dataSync().slice());
        });
      };
      const want = run(false);
      const got = run(true);
      expect(got.length).toBe(4);
      want.forEach((w, k) => {
        const m = Math.max(...Array.from(w, Math.abs));
        expect(m).toBeGreaterThan(0);
        let worst = 0;
        for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(got[k]![i]! - w[i]!) / m);
        expect(worst).toBeLessThan(1e-5);
      });
      // The fast run went through the fused kernel, not a separate Relu.
      setFastConvRelu(true);
      const prof = await tf.profile(() => {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => tf.sum(layer.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
          tf.dispose(grads);
        });
      });
      const names = prof.kernels.map((k) => k.name);
      expect(names).toContain(c.depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D');
      expect(names).not.toContain('Relu');
      // Some activations are clamped, so the mask matters.
      expect(want[0]!.some((v) => v === 0)).toBe(true);
      tf.dispose([x, ...vars]);
    });
  });
}
