// Conv + bias + ReLU in training (models/fast-conv-relu.ts): outputs and gradients against
// tfjs-layers' own unfused path, for Conv2D and DepthwiseConv2D, on wasm and cpu.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { setFastConvRelu } from '../../src/main/engine/models/fast-conv-relu.js';
import { inputNeedsGradient } from '../../src/main/engine/models/input-gradient.js';
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

describe('a convolution whose input needs no gradient (the stem)', () => {
  function tinyNet(seed: number): tf.LayersModel {
    const input = tf.input({ shape: [12, 12, 3] });
    let h = tf.layers.rescaling({ scale: 1 / 127.5, offset: -1 }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.zeroPadding2d({ padding: 1 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, useBias: false, name: 'stem', kernelInitializer: tf.initializers.glorotNormal({ seed }) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: 'bn' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.conv2d({ filters: 16, kernelSize: 1, activation: 'relu', name: 'pw', kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 2 }) }).apply(h) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out });
  }

  it('is found by walking back to the inputs: none upstream of the stem is trainable, a frozen stem frees the next', () => {
    const model = tinyNet(1);
    expect(inputNeedsGradient(model.getLayer('stem'))).toBe(false);
    expect(inputNeedsGradient(model.getLayer('pw'))).toBe(true);
    model.getLayer('stem').trainable = false;
    model.getLayer('bn').trainable = false;
    expect(inputNeedsGradient(model.getLayer('pw'))).toBe(false);
    model.dispose();
  });

  it('trains exactly as tfjs-layers does, without the stem\'s input gradient', async () => {
    await initBackend({ force: 'wasm', threads: 1 });
    const model = tinyNet(5);
    const x = tf.randomUniform([3, 12, 12, 3], 0, 255, 'float32', 21);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const grads = (fast: boolean) => {
      setFastConvRelu(fast);
      return tf.tidy(() => {
        const { grads: g } = tf.variableGrads(() => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
        return vars.map((v) => g[v.name]!.dataSync().slice());
      });
    };
    const want = grads(false);
    const got = grads(true);
    want.forEach((w, k) => {
      const m = Math.max(...Array.from(w, Math.abs));
      expect(m).toBeGreaterThan(0);
      for (let i = 0; i < w.length; i++) expect(Math.abs(got[k]![i]! - w[i]!) / m).toBeLessThan(1e-5);
    });
    const inputGrads = async (fast: boolean) => {
      setFastConvRelu(fast);
      const prof = await tf.profile(() => {
        tf.tidy(() => tf.dispose(tf.variableGrads(() => tf.sum(model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars).grads));
      });
      return prof.kernels.filter((k) => k.name === 'Conv2DBackpropInput').length;
    };
    // tfjs computes both convolutions' input gradients; the patched path only the 1×1's.
    expect(await inputGrads(false)).toBe(2);
    expect(await inputGrads(true)).toBe(1);
    setFastConvRelu(true);
    tf.dispose(x);
    model.dispose();
  });
});
