// The fused BatchNormalization training op and the layer patch against tfjs-layers' own path
// (tf.moments + tf.batchNorm and their tfjs-core gradients), on cpu and on wasm.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { batchNormTraining, setBatchNormImpl, setFastBatchNorm } from '../../src/main/engine/models/fast-batchnorm.js';
import '../../src/main/engine/models/index.js'; // installs the patch as the app does

const REL = 1e-4;

/** max |a − b| ≤ rel · max |b| (elementwise relative error is meaningless where values cancel to ~0). */
function expectClose(a: tf.Tensor, b: tf.Tensor, what: string, rel = REL): void {
  expect(a.shape, what).toEqual(b.shape);
  const av = a.dataSync();
  const bv = b.dataSync();
  let scale = 0;
  let err = 0;
  for (let i = 0; i < bv.length; i++) {
    scale = Math.max(scale, Math.abs(bv[i]!));
    err = Math.max(err, Math.abs(av[i]! - bv[i]!));
  }
  expect(Number.isFinite(err), `${what}: finite`).toBe(true);
  expect(err, `${what}: max error ${err} vs scale ${scale}`).toBeLessThanOrEqual(rel * Math.max(scale, 1e-6));
}

interface StepResult {
  y: tf.Tensor;
  /** Gradients of Σ y·w for x, γ, β (in that order). */
  grads: tf.Tensor[];
  movingMean: tf.Tensor;
  movingVariance: tf.Tensor;
}

/** A built BN layer with random γ, β and moving statistics (seeded). */
function makeLayer(shape: number[], seed: number, opts: { center?: boolean; scale?: boolean } = {}): tf.layers.Layer {
  const layer = tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, ...opts });
  layer.build(shape);
  const C = shape[shape.length - 1]!;
  layer.setWeights(
    layer.weights.map((w, i) => {
      const base = w.name.includes('variance') ? 1.5 : w.name.includes('gamma') ? 1 : 0;
      return tf.add(base, tf.randomUniform([C], -0.5, 0.5, 'float32', seed * 10 + i));
    }),
  );
  return layer;
}

/** One training-mode application: output, gradients of Σ y·w, and the moving statistics after. */
function trainStep(layer: tf.layers.Layer, x0: tf.Tensor, w: tf.Tensor): StepResult {
  const x = tf.variable(x0.clone(), true);
  const params = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  let y: tf.Tensor | null = null;
  const { grads } = tf.variableGrads(() => {
    const out = layer.apply(x, { training: true }) as tf.Tensor;
    y = tf.keep(out.clone());
    return tf.sum(tf.mul(out, w)) as tf.Scalar;
  }, [x, ...params]);
  const byName = layer.weights.map((v) => v.read());
  const names = layer.weights.map((v) => v.name);
  const mm = byName[names.findIndex((n) => n.includes('moving_mean'))]!.clone();
  const mv = byName[names.findIndex((n) => n.includes('moving_variance'))]!.clone();
  const ordered = [x, ...params].map((v) => grads[v.name]!);
  x.dispose();
  return { y: y!, grads: ordered, movingMean: mm, movingVariance: mv };
}

function disposeStep(r: StepResult): void {
  tf.dispose([r.y, ...r.grads, r.movingMean, r.movingVariance]);
}

/** The same step through tfjs-layers' path and through the fused op, on fresh identical layers. */
function compareLayerStep(shape: number[], seed: number): void {
  const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), 3), 5); // mean far from 0
  const w = tf.randomNormal(shape, 0, 1, 'float32', seed + 1);
  setFastBatchNorm(false);
  const ref = trainStep(makeLayer(shape, seed), x, w);
  setFastBatchNorm(true);
  const got = trainStep(makeLayer(shape, seed), x, w);
  const tag = `[${shape.join(',')}]`;
  expectClose(got.y, ref.y, `${tag} y`);
  expectClose(got.grads[0]!, ref.grads[0]!, `${tag} dx`);
  expectClose(got.grads[1]!, ref.grads[1]!, `${tag} dgamma`);
  expectClose(got.grads[2]!, ref.grads[2]!, `${tag} dbeta`);
  expectClose(got.movingMean, ref.movingMean, `${tag} moving mean`);
  expectClose(got.movingVariance, ref.movingVariance, `${tag} moving variance`);
  disposeStep(ref);
  disposeStep(got);
  tf.dispose([x, w]);
}

/** BN forward (γ = 1, β = 0) and backward for Σ y·dy in float64, straight from the definitions. */
function float64BatchNorm(xs: Float32Array, dys: Float32Array, C: number, eps: number) {
  const M = xs.length / C;
  const y = new Float64Array(xs.length);
  const dx = new Float64Array(xs.length);
  const dGamma = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let mean = 0;
    for (let r = 0; r < M; r++) mean += xs[r * C + c]! / M;
    let v = 0;
    for (let r = 0; r < M; r++) v += (xs[r * C + c]! - mean) ** 2 / M;
    const inv = 1 / Math.sqrt(v + eps);
    let sDy = 0;
    let sDyXhat = 0;
    for (let r = 0; r < M; r++) {
      const xhat = (xs[r * C + c]! - mean) * inv;
      y[r * C + c] = xhat;
      sDy += dys[r * C + c]!;
      sDyXhat += dys[r * C + c]! * xhat;
    }
    dGamma[c] = sDyXhat;
    for (let r = 0; r < M; r++) {
      dx[r * C + c] = inv * (dys[r * C + c]! - sDy / M - y[r * C + c]! * (sDyXhat / M));
    }
  }
  return { y, dx, dGamma };
}

/** A small convnet with BN after two convs and a dense layer (rank-2 BN). */
function smallModel(seed: number): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  const input = tf.input({ shape: [9, 7, 3] });
  // No biases before BN: their true gradient is 0, and comparing rounding noise says nothing.
  let h = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(1) }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, useBias: false, kernelInitializer: init(2) }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'relu6' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 5, useBias: false, kernelInitializer: init(3) }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, kernelInitializer: init(4) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Gradients of the cross-entropy for the model's trainable weights, in the model's order. */
function modelGrads(model: tf.LayersModel, x: tf.Tensor, target: tf.Tensor): tf.Tensor[] {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    vars,
  );
  value.dispose();
  return vars.map((v) => grads[v.name]!);
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`fast BatchNormalization on ${backend}`, () => {
    beforeAll(async () => {
      if (backend === 'wasm') await initBackend({ force: 'wasm', threads: 1 });
      else if (!(await tf.setBackend('cpu'))) throw new Error('no cpu backend');
      setBatchNormImpl(null);
      setFastBatchNorm(true);
    });
    afterAll(() => {
      setBatchNormImpl(null);
      setFastBatchNorm(true);
    });

    // Odd sizes, batch 1..4, channel counts off and on the 4-block, one pixel per image.
    it.each([
      [[1, 3, 5, 7]],
      [[2, 5, 3, 4]],
      [[3, 1, 1, 9]],
      [[4, 7, 5, 13]],
      [[2, 4, 4, 16]],
      [[1, 1, 3, 2]],
    ])('layer step on %j equals tfjs-layers (output, dx, dγ, dβ, moving stats)', (shape) => {
      compareLayerStep(shape, shape.reduce((a, b) => a * 31 + b, 7));
    });

    it('rank-2 BN (after a dense layer) equals tfjs-layers', () => {
      compareLayerStep([4, 11], 3);
    });

    it('both implementations (loops, ops) agree with tfjs-layers', () => {
      for (const impl of ['loops', 'ops'] as const) {
        setBatchNormImpl(impl);
        compareLayerStep([3, 5, 7, 6], 11);
      }
      setBatchNormImpl(null);
    });

    it('repeated steps keep updating the moving statistics like tfjs-layers', () => {
      const shape = [2, 3, 3, 5];
      const layers = [false, true].map((fast) => {
        setFastBatchNorm(fast);
        const layer = makeLayer(shape, 4);
        for (let s = 0; s < 3; s++) {
          tf.tidy(() => layer.apply(tf.randomNormal(shape, 1, 2, 'float32', 40 + s), { training: true }) as tf.Tensor);
        }
        return layer.getWeights();
      });
      setFastBatchNorm(true);
      layers[0]!.forEach((ref, i) => expectClose(layers[1]![i]!, ref, `weight ${i}`));
    });

    it('without γ/β (scale: false, center: false) equals the γ = 1, β = 0 layer', () => {
      const shape = [2, 3, 4, 5];
      const x = tf.randomNormal(shape, 2, 3, 'float32', 8);
      const w = tf.randomNormal(shape, 0, 1, 'float32', 9);
      const bare = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, center: false, scale: false });
      bare.build(shape);
      const full = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 });
      full.build(shape);
      setFastBatchNorm(false);
      const ref = trainStep(full, x, w);
      setFastBatchNorm(true);
      const got = trainStep(bare, x, w);
      expect(got.grads).toHaveLength(1);
      expectClose(got.y, ref.y, 'y');
      expectClose(got.grads[0]!, ref.grads[0]!, 'dx');
      expectClose(got.movingVariance, ref.movingVariance, 'moving variance');
      disposeStep(ref);
      disposeStep(got);
      tf.dispose([x, w]);
    });

    it('inference keeps the moving-statistics path', () => {
      const shape = [2, 3, 3, 4];
      const layer = makeLayer(shape, 6);
      const x = tf.randomNormal(shape, 0, 1, 'float32', 12);
      const [mm, mv, g, b] = ['moving_mean', 'moving_variance', 'gamma', 'beta'].map((n) => layer.weights.find((v) => v.name.includes(n))!.read());
      const expected = tf.batchNorm(x, mm!, mv!, b!, g!, 1e-5);
      expectClose(layer.apply(x, { training: false }) as tf.Tensor, expected, 'inference');
      expectClose(layer.apply(x) as tf.Tensor, expected, 'default (inference)');
    });

    it("a whole small model's variableGrads equal tfjs-layers'", () => {
      const x = tf.randomNormal([3, 9, 7, 3], 0, 2, 'float32', 21);
      const target = tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3);
      const results = [false, true].map((fast) => {
        setFastBatchNorm(fast);
        return modelGrads(smallModel(5), x, target);
      });
      setFastBatchNorm(true);
      const [ref, got] = results as [tf.Tensor[], tf.Tensor[]];
      expect(ref).toHaveLength(11); // 2 convs, dense: kernel; 3 BN: γ + β; last dense: kernel + bias
      expect(got).toHaveLength(11);
      ref.forEach((g, i) => {
        expect(g, `gradient ${i}`).toBeDefined();
        expectClose(got[i]!, g, `gradient ${i}`);
      });
      tf.dispose([...ref, ...got, x, target]);
    });

    it('matches a float64 reference, also on near-constant (ReLU6-saturated) channels', () => {
      // Channels around 6 with spreads 0.3, 1e-3, 1e-5: tfjs-layers' float32 mean loses the
      // small spreads (errors ~1e-4 in y and dγ); the fused op keeps them.
      const M = 8;
      const C = 3;
      const xs = Float32Array.from({ length: M * C }, (_, i) => 6 + [0.3, 1e-3, 1e-5][i % C]! * Math.sin(i * 1.7));
      const dys = Float32Array.from({ length: M * C }, (_, i) => Math.cos(i * 0.9));
      const ref = float64BatchNorm(xs, dys, C, 1e-5);
      const layer = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 });
      layer.build([M, C]);
      const got = trainStep(layer, tf.tensor2d(xs, [M, C]), tf.tensor2d(dys, [M, C]));
      const close = (a: tf.Tensor, b: Float64Array, what: string) => expectClose(a, tf.tensor(Float32Array.from(b), a.shape), what, 1e-6);
      close(got.y, ref.y, 'y');
      close(got.grads[0]!, ref.dx, 'dx');
      close(got.grads[1]!, ref.dGamma, 'dgamma');
      disposeStep(got);
    });

    it('leaks no tensors over repeated optimizer steps', () => {
      const model = smallModel(9);
      const opt = tf.train.adam(1e-3);
      const x = tf.randomNormal([2, 9, 7, 3], 0, 1, 'float32', 2);
      const target = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 3);
      const step = () => {
        opt.minimize(() => tf.losses.softmaxCrossEntropy(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar)?.dispose();
      };
      step(); // creates the optimizer's slots
      const before = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) step();
      expect(tf.memory().numTensors).toBe(before);
      // The bare op, without gradients, leaks nothing either.
      const n0 = tf.memory().numTensors;
      const r = batchNormTraining(x, null, null, 1e-5);
      tf.dispose([r.y, r.mean, r.variance]);
      expect(tf.memory().numTensors).toBe(n0);
      tf.dispose([x, target]);
      opt.dispose();
      model.dispose();
    });

    it('saves standard BatchNormalization layers that load with the original code', async () => {
      const model = smallModel(3);
      const json = JSON.stringify(model.toJSON(null, false));
      expect((json.match(/"class_name":"BatchNormalization"/g) ?? []).length).toBe(3);
      const loaded = await tf.models.modelFromJSON({ modelTopology: JSON.parse(json) as tf.io.ModelJSON['modelTopology'] });
      loaded.setWeights(model.getWeights());
      const x = tf.randomNormal([1, 9, 7, 3], 0, 1, 'float32', 1);
      expectClose(loaded.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor, 'loaded model');
    });
  });
}
