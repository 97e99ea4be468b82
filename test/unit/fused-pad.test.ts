// ZeroPadding2D → convolution in training as one convolution with explicit padding
// (models/fused-pad.ts, models/fast-conv-relu.ts): outputs and every gradient against the same
// model with its pad layers padding for real, on wasm and cpu, for each path a consumer can take.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { setFusedPad } from '../../src/main/engine/models/fused-pad.js';
import { setFastConvRelu } from '../../src/main/engine/models/fast-conv-relu.js';
import '../../src/main/engine/models/index.js';

afterAll(() => {
  setFusedPad(true);
  setFastConvRelu(true);
});

type Sym = tf.SymbolicTensor;
const ap = (l: tf.layers.Layer, x: Sym | Sym[]) => l.apply(x) as Sym;
let seed = 100;
const init = () => tf.initializers.randomNormal({ mean: 0, stddev: 0.3, seed: seed++ });

/** Every way a pad layer's output is read: each consumer path of the conv patch, and the cases that must pad for real. */
function net(): tf.LayersModel {
  seed = 100;
  const input = tf.input({ shape: [13, 11, 4] });
  // The stem: conv + relu whose input needs no gradient.
  let h = ap(tf.layers.zeroPadding2d({ padding: 1, name: 'stem_pad' }), input);
  h = ap(tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu', name: 'stem', kernelInitializer: init(), biasInitializer: init() }), h);
  // Depthwise + bias + relu, stride 2 (the fused training conv).
  h = ap(tf.layers.zeroPadding2d({ padding: 1, name: 'dw_pad' }), h);
  h = ap(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, activation: 'relu', name: 'dw', depthwiseInitializer: init(), biasInitializer: init() }), h);
  // Linear conv without bias, BatchNorm after (tfjs's conv op with explicit padding); asymmetric.
  h = ap(tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 1]], name: 'conv_pad' }), h);
  h = ap(tf.layers.conv2d({ filters: 12, kernelSize: 3, strides: 1, useBias: false, name: 'conv', kernelInitializer: init() }), h);
  h = ap(tf.layers.batchNormalization({ name: 'bn1' }), h);
  // Linear depthwise without bias (tfjs's depthwise op with explicit padding).
  h = ap(tf.layers.zeroPadding2d({ padding: 1, name: 'dwl_pad' }), h);
  h = ap(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 1, useBias: false, name: 'dwl', depthwiseInitializer: init() }), h);
  h = ap(tf.layers.batchNormalization({ name: 'bn2' }), h);
  // relu6 with a bias: tfjs-layers' own path, so the pad is applied for real by the conv.
  h = ap(tf.layers.zeroPadding2d({ padding: 1, name: 'r6_pad' }), h);
  h = ap(tf.layers.conv2d({ filters: 12, kernelSize: 3, activation: 'relu6', name: 'r6', kernelInitializer: init(), biasInitializer: init() }), h);
  // Asymmetric before a depthwise, and a pad read by a pooling layer: never fused.
  h = ap(tf.layers.zeroPadding2d({ padding: [[0, 1], [1, 1]], name: 'asym_pad' }), h);
  h = ap(tf.layers.depthwiseConv2d({ kernelSize: 3, activation: 'relu', name: 'dwa', depthwiseInitializer: init(), biasInitializer: init() }), h);
  h = ap(tf.layers.zeroPadding2d({ padding: 1, name: 'pool_pad' }), h);
  h = ap(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool' }), h);
  h = ap(tf.layers.globalAveragePooling2d({ name: 'gap' }), h);
  const out = ap(tf.layers.dense({ units: 3, name: 'logits', kernelInitializer: init() }), h);
  return tf.model({ inputs: input, outputs: out });
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`pad layers fused into the convolution after them, training on ${backend}`, () => {
    it('gives the outputs and gradients of padding for real, and skips the pads it fuses', async () => {
      if (backend === 'wasm') await initBackend({ force: 'wasm', threads: 2 });
      else await tf.setBackend('cpu');
      const model = net();
      const x = tf.randomNormal([2, 13, 11, 4], 0, 1, 'float32', 7);
      const dy = tf.randomNormal([2, 3], 0, 1, 'float32', 8);
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const run = (fused: boolean) => {
        setFusedPad(fused);
        return tf.tidy(() => {
          const f = () => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, dy)) as tf.Scalar;
          const { value, grads } = tf.variableGrads(f, vars);
          return [value, ...vars.map((v) => grads[v.name]!)].map((t) => t.dataSync().slice());
        });
      };
      const want = run(false);
      const got = run(true);
      expect(got.length).toBe(vars.length + 1);
      want.forEach((w, k) => {
        const m = Math.max(...Array.from(w, Math.abs));
        expect(m).toBeGreaterThan(0);
        let worst = 0;
        for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(got[k]![i]! - w[i]!) / m);
        expect(worst, `${k === 0 ? 'loss' : vars[k - 1]!.name}`).toBeLessThan(2e-5);
      });
      // Pads: six pad layers. Fused, the four of stem_pad, dw_pad, conv_pad, dwl_pad are left to their
      // convolutions; r6 pads for real, asym_pad and pool_pad are not fused.
      const pads = async (fused: boolean) => {
        setFusedPad(fused);
        const prof = await tf.profile(() => {
          tf.tidy(() => tf.dispose(tf.variableGrads(() => tf.sum(model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars).grads));
        });
        return prof.kernels.filter((k) => k.name === 'PadV2').length;
      };
      const plain = await pads(false);
      const fused = await pads(true);
      expect(plain - fused).toBeGreaterThanOrEqual(3);
      setFusedPad(true);
      tf.dispose([x, dy]);
      model.dispose();
    });

    it('pads for real where the convolution runs tfjs-layers\' own path', async () => {
      if (backend === 'wasm') await initBackend({ force: 'wasm', threads: 1 });
      else await tf.setBackend('cpu');
      const model = net();
      const x = tf.randomNormal([1, 13, 11, 4], 0, 1, 'float32', 9);
      const y = (fast: boolean, fused: boolean) => {
        setFastConvRelu(fast);
        setFusedPad(fused);
        return tf.tidy(() => (model.apply(x, { training: true }) as tf.Tensor).dataSync().slice());
      };
      const want = y(false, false);
      const got = y(false, true);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
      // Inference never sees a tag: predict pads as the layers say.
      setFastConvRelu(true);
      const infer = (model.predict(x) as tf.Tensor).dataSync().slice();
      expect(infer.length).toBe(want.length);
      tf.dispose(x);
      model.dispose();
    });
  });
}
