// BN-folded inference (models/inference-plan.ts) against tfjs-layers' own model.predict, on the
// project's nets with BatchNorm statistics that are not the initial ones, after weight updates,
// on wasm and cpu; plus the fallbacks and the tensor bookkeeping.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { createModel, parseNetName } from '../../src/main/engine/models/index.js';
import { checkedFoldedForward, checkedFoldedOutputs, inferencePlan, predictFolded, predictFoldedOutputs, releasePlan } from '../../src/main/engine/models/inference-plan.js';
import { tapModel } from '../../src/main/engine/models/feature-tap.js';

function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(b.shape).toEqual(a.shape);
  const [av, bv] = [a.dataSync(), b.dataSync()];
  let d = 0;
  let m = 0;
  for (let i = 0; i < av.length; i++) {
    d = Math.max(d, Math.abs(av[i]! - bv[i]!));
    m = Math.max(m, Math.abs(av[i]!));
  }
  expect(m).toBeGreaterThan(0);
  return d / m;
}

/** A few SGD steps in training mode: weights and BN moving statistics move away from their init. */
function train(model: tf.LayersModel, x: tf.Tensor, steps: number): void {
  const opt = tf.train.sgd(0.05);
  const target = tf.oneHot(tf.tensor1d(Array.from({ length: x.shape[0]! }, (_, i) => i % 2), 'int32'), 2);
  for (let s = 0; s < steps; s++) {
    tf.tidy(() => {
      opt.minimize(() => tf.losses.softmaxCrossEntropy(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    });
  }
  target.dispose();
  opt.dispose();
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`folded inference on ${backend}`, () => {
    // ResNet-18 on the pure-JS cpu backend takes minutes: wasm only.
    it.each([
      { net: 'mobilenet_v2_035', bns: 52 },
      { net: 'resnet18', bns: 20 },
      { net: 'refnet', bns: 0 },
    ].filter((c) => backend === 'wasm' || c.net !== 'resnet18'))('$net equals model.predict, also after training steps', async ({ net, bns }) => {
      if (backend === 'wasm') await initBackend({ force: 'wasm', threads: 1 });
      else await tf.setBackend('cpu');
      const size = 32;
      const model = createModel({ ...parseNetName(net), inputSize: size, classes: 2, seed: 3 });
      const x = tf.randomUniform([4, size, size, 3], 0, 255, 'float32', 5);
      const plan = inferencePlan(model)!;
      expect(plan).not.toBeNull();
      expect(plan.foldedBatchNorms).toBe(bns);
      // Fewer steps than layers: the pads, BNs and activations went into the convs.
      if (bns > 0) expect(plan.steps.length).toBeLessThan(model.layers.length - bns);
      train(model, x, 2);
      const check = () => tf.tidy(() => maxRelDiff(model.predict(x) as tf.Tensor, predictFolded(model, x)));
      expect(check()).toBeLessThan(1e-4);
      // The fold is cached: a second call allocates nothing that outlives it.
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        predictFolded(model, x);
      });
      expect(tf.memory().numTensors).toBe(before);
      // New weights (new dataIds) are refolded, and the old folds are freed.
      train(model, x, 1);
      const afterTrain = tf.memory().numTensors;
      expect(check()).toBeLessThan(1e-4);
      expect(tf.memory().numTensors).toBe(afterTrain);
      // Disposing the model frees its folds too.
      const beforeDispose = tf.memory().numTensors;
      const weights = model.weights.length;
      model.dispose();
      expect(tf.memory().numTensors).toBe(beforeDispose - weights - 2 * bns);
      x.dispose();
    }, 120_000);
  });
}

describe('several outputs', () => {
  it('a teacher\'s tap model (logits, pooled features, last spatial map) folds and keeps every output', async () => {
    await initBackend({ force: 'wasm', threads: 1 });
    const model = createModel({ ...parseNetName('mobilenet_v2_035'), inputSize: 32, classes: 2, seed: 3 });
    const x = tf.randomUniform([4, 32, 32, 3], 0, 255, 'float32', 5);
    train(model, x, 2);
    const tap = tapModel(model, { pooled: true, map: true }, 'the test model');
    const plan = inferencePlan(tap.model)!;
    expect(plan).not.toBeNull();
    expect(plan.outputs).toHaveLength(3);
    // Chains stop at a tapped value, so at most one BatchNorm fewer folds than in the plain model.
    expect(plan.foldedBatchNorms).toBeGreaterThanOrEqual(inferencePlan(model)!.foldedBatchNorms - 1);
    tf.dispose(predictFoldedOutputs(tap.model, x)); // the folds are made once and kept with the model
    const before = tf.memory().numTensors;
    const folded = predictFoldedOutputs(tap.model, x);
    const reference = tap.model.predict(x) as tf.Tensor[];
    expect(folded.map((t) => t.shape)).toEqual(reference.map((t) => t.shape));
    for (let i = 0; i < 3; i++) expect(maxRelDiff(reference[i]!, folded[i]!)).toBeLessThan(1e-4);
    tf.dispose([...folded, ...reference]);
    expect(tf.memory().numTensors).toBe(before);
    // Checked on the first call, then folded.
    const forward = checkedFoldedOutputs(tap.model);
    for (let k = 0; k < 2; k++) {
      const outs = forward(x);
      const ref = tap.model.predict(x) as tf.Tensor[];
      for (let i = 0; i < 3; i++) expect(maxRelDiff(ref[i]!, outs[i]!)).toBeLessThan(1e-4);
      tf.dispose([...outs, ...ref]);
    }
    // The tap model shares the model's layers and is never disposed: releasePlan frees its folds only.
    const held = tf.memory().numTensors;
    releasePlan(tap.model);
    expect(tf.memory().numTensors).toBe(held - 2 * plan.foldedBatchNorms);
    expect(tf.tidy(() => maxRelDiff(model.predict(x) as tf.Tensor, predictFolded(model, x)))).toBeLessThan(1e-4);
  });

  it('two heads on one input: both outputs, as model.predict gives them', async () => {
    await tf.setBackend('cpu');
    const input = tf.input({ shape: [4] });
    const a = tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 3 }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [a, b] });
    expect(inferencePlan(model)!.outputs).toHaveLength(2);
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 2);
    const [ra, rb] = model.predict(x) as tf.Tensor[];
    const [fa, fb] = predictFoldedOutputs(model, x);
    expect(maxRelDiff(ra!, fa!)).toBe(0);
    expect(maxRelDiff(rb!, fb!)).toBe(0);
  });
});

describe('fallbacks', () => {
  it('checkedFoldedForward keeps model.predict when the folded path disagrees', async () => {
    await tf.setBackend('cpu');
    const model = createModel({ ...parseNetName('mobilenet_v2_035'), inputSize: 32, classes: 2, seed: 1 });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 255, 'float32', 9);
    train(model, x, 1);
    // Sabotage the plan: a folded step that reads the wrong epsilon gives different numbers.
    const plan = inferencePlan(model)!;
    const step = plan.steps.find((s) => s.kind === 'conv' && s.bn)!;
    if (step.kind !== 'conv' || !step.bn) throw new Error('no folded step');
    const bn = step.bn;
    const original = bn.epsilon;
    step.bn = { ...bn, epsilon: 10 } as typeof bn;
    const forward = checkedFoldedForward(model);
    const reference = model.predict(x) as tf.Tensor;
    expect(maxRelDiff(reference, forward(x))).toBe(0);
    expect(maxRelDiff(reference, forward(x))).toBe(0); // decided once, kept
    step.bn = bn;
    expect(bn.epsilon).toBe(original);
    // An untouched model keeps the folded path (same numbers within float rounding).
    const clean = createModel({ ...parseNetName('mobilenet_v2_035'), inputSize: 32, classes: 2, seed: 1 });
    const f2 = checkedFoldedForward(clean);
    expect(maxRelDiff(clean.predict(x) as tf.Tensor, f2(x))).toBeLessThan(1e-4);
  });
});
