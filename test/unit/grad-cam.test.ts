// Grad-CAM against what it must equal where it can be written down: after a global average pooling and
// a linear head, the class score's gradient is W[:, c]/(h·w) at every position, so the map is CAM,
// ReLU(Σ_k W_kc A_k) scaled to [0, 1] (for a softmax output, log p_c: W_c − Σ_j p_j W_j). The feature
// map and weights are read from the model, the expected map computed here in float64.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradCam, hasGradCam } from '../../src/main/engine/explain/grad-cam.js';
import { createModel } from '../../src/main/engine/models/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function expectedCam(map: number[][][], w: number[][], coef: number[]): number[][] {
  const raw = map.map((row) => row.map((px) => Math.max(0, px.reduce((s, a, k) => s + a * w[k]!.reduce((t, wk, j) => t + wk * coef[j]!, 0), 0))));
  const max = Math.max(...raw.flat());
  return raw.map((r) => r.map((v) => (max > 0 ? v / max : 0)));
}

function mapAndWeights(model: tf.LayersModel, x: tf.Tensor4D): { map: number[][][]; w: number[][] } {
  const gap = model.layers.find((l) => l.getClassName() === 'GlobalAveragePooling2D')!;
  const map = (tf.model({ inputs: model.inputs, outputs: gap.input as tf.SymbolicTensor }).predict(x) as tf.Tensor4D).arraySync()[0]!;
  const dense = [...model.layers].reverse().find((l) => l.getClassName() === 'Dense')!;
  return { map, w: dense.getWeights()[0]!.arraySync() as number[][] };
}

describe('gradCam', () => {
  it('refnet (GAP → Dense logits): equals CAM for the top class and for a class asked for', () => {
    const model = createModel({ arch: 'refnet', inputSize: 32, classes: 3, seed: 4 });
    const x = tf.randomUniform([1, 32, 32, 3], 0, 255, 'float32', 3) as tf.Tensor4D;
    const { map, w } = mapAndWeights(model, x);
    const top = gradCam(model, x);
    const probs = Array.from(tf.softmax(model.predict(x) as tf.Tensor).dataSync());
    expect(top.classIndex).toBe(probs.indexOf(Math.max(...probs)));
    top.probs.forEach((p, i) => expect(p).toBeCloseTo(probs[i]!, 5));
    for (const c of [top.classIndex, (top.classIndex + 1) % 3]) {
      const r = gradCam(model, x, c);
      const want = expectedCam(map, w, [0, 1, 2].map((j) => (j === c ? 1 : 0)));
      expect(r.cam.length).toBe(map.length);
      r.cam.flat().forEach((v, i) => expect(v).toBeCloseTo(want.flat()[i]!, 4));
      // Scaled to [0, 1]; a class nothing supports has an all-zero map.
      expect(Math.max(...r.cam.flat())).toBeCloseTo(Math.max(...want.flat()) > 0 ? 1 : 0, 6);
      if (c === top.classIndex) expect(Math.max(...want.flat())).toBeGreaterThan(0);
    }
    model.dispose();
  });

  it('a softmax output explains log p_c: weights W_c − Σ_j p_j W_j', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    let h = tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.randomNormal({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dropout({ rate: 0.5 }).apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.randomNormal({ seed: 2, stddev: 2 }) }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
    const { map, w } = mapAndWeights(model, x);
    const r = gradCam(model, x, 2);
    const p = Array.from((model.predict(x) as tf.Tensor).dataSync());
    const want = expectedCam(map, w, p.map((pj, j) => (j === 2 ? 1 : 0) - pj));
    r.cam.flat().forEach((v, i) => expect(v).toBeCloseTo(want.flat()[i]!, 4));
    model.dispose();
  });

  it('says why a model has none (no pooling after a spatial stage)', () => {
    const input = tf.input({ shape: [4] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor });
    expect(hasGradCam(model)).toBe(false);
    expect(() => gradCam(model, tf.zeros([1, 2, 2, 1]) as tf.Tensor4D)).toThrow(/no global average pooling/);
  });
});
