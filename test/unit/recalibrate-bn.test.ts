// BatchNorm recalibration: after it, every BatchNorm's output in inference mode has, per channel, the
// mean β and the standard deviation |γ|·√(v/(v+ε)) (v: its input's variance) on the images it was measured on — checked from each layer's
// own output, independently of how the statistics were computed.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { createModel } from '../../src/main/engine/models/index.js';
import { recalibrateBatchNorm } from '../../src/main/engine/models/recalibrate-bn.js';
import { randomizeBatchNorms } from '../helpers/export-stand-in.js';

beforeAll(async () => {
  await initBackend({ threads: 1 });
});

function outputMoments(model: tf.LayersModel, layer: tf.layers.Layer, x: tf.Tensor, of: 'input' | 'output' = 'output'): { mean: Float32Array; std: Float32Array } {
  return tf.tidy(() => {
    const y = tf.model({ inputs: model.inputs, outputs: layer[of] as tf.SymbolicTensor }).predict(x) as tf.Tensor;
    const flat = y.reshape([-1, y.shape[y.shape.length - 1]!]);
    const m = tf.moments(flat, 0);
    return { mean: m.mean.dataSync() as Float32Array, std: m.variance.sqrt().dataSync() as Float32Array };
  });
}

describe('recalibrateBatchNorm', () => {
  it('mobilenet_v2 ×0.35 with stale statistics: each BatchNorm output is standardized to β and |γ| on the images', () => {
    const model = createModel({ arch: 'mobilenet_v2', width: 0.35, inputSize: 32, classes: 2, seed: 1 });
    randomizeBatchNorms(model); // stale: nothing like the statistics of these images
    const x = tf.randomUniform([48, 32, 32, 3], 0, 255, 'float32', 7);
    const data = x.dataSync() as Float32Array;
    const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    const before = outputMoments(model, bns[5]!, x);
    const beta5 = bns[5]!.getWeights()[1]!.dataSync() as Float32Array;
    const off = (m: { mean: Float32Array }, beta: Float32Array) => Math.max(...Array.from(m.mean, (v, i) => Math.abs(v - beta[i]!)));
    expect(off(before, beta5)).toBeGreaterThan(0.3);

    const r = recalibrateBatchNorm(model, [
      { x: data.subarray(0, 24 * 32 * 32 * 3), n: 24 },
      { x: data.subarray(24 * 32 * 32 * 3), n: 24 },
    ]);
    expect(r).toEqual({ layers: bns.length, images: 48 });
    for (const bn of bns) {
      const [gamma, beta] = bn.getWeights().map((w) => w.dataSync() as Float32Array);
      const { mean, std } = outputMoments(model, bn, x);
      // The input's spread as tf.moments sees it; ε shrinks the output of a channel of tiny variance.
      const input = outputMoments(model, bn, x, 'input');
      const eps = Number(bn.getConfig().epsilon);
      for (let c = 0; c < mean.length; c++) {
        expect(mean[c]!).toBeCloseTo(beta![c]!, 2);
        const v = input.std[c]! ** 2;
        expect(std[c]!).toBeCloseTo(Math.abs(gamma![c]!) * Math.sqrt(v / (v + eps)), 2);
      }
    }
    x.dispose();
    model.dispose();
  });

  it('a model without BatchNorm is left as it is', () => {
    const model = createModel({ arch: 'refnet', inputSize: 32, classes: 2, seed: 1 });
    const w = model.getWeights().map((t) => t.dataSync().slice());
    expect(recalibrateBatchNorm(model, [{ x: new Float32Array(2 * 32 * 32 * 3).fill(100), n: 2 }])).toEqual({ layers: 0, images: 2 });
    model.getWeights().forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(w[i]!)));
    model.dispose();
  });
});
