// The shared export lowering (export/lower.ts) and its reference interpreter (export/reference.ts)
// against tfjs's own model.predict, softmaxed: the project's students with BatchNorm statistics that
// are not the initial ones, a MobileNet-v1-style pretrained classifier with the
// layers such models carry (same-padded stride-2 convs, Reshape, Dropout, 1×1 conv head, softmax),
// and the refusal of a layer the lowering has no mapping for.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { createModel } from '../../src/main/engine/models/index.js';
import { lowerModel } from '../../src/main/engine/export/lower.js';
import { runGraph } from '../../src/main/engine/export/reference.js';
import { maxAbsDiff, randomizeBatchNorms, tfjsProbabilities } from '../helpers/export-stand-in.js';

beforeAll(async () => {
  await initBackend({ threads: 1 });
});

// BatchNorm statistics away from the initial ones (as a trained model has them) so folding is
// exercised; probabilities from tfjs's plain-JS cpu backend (wasm's XNNPACK kernels disagree with
// themselves by up to ~3e-4 on a trained MobileNetV2, too loose a yardstick for 1e-4).
describe('lowerModel + runGraph', () => {
  it.each([
    { arch: 'refnet' as const, size: 32 },
    { arch: 'mobilenet_v2' as const, width: 0.35, size: 32 },
    { arch: 'mobilenet_v2' as const, width: 0.5, size: 40 },
    { arch: 'resnet18' as const, size: 32 },
  ])('$arch ×$width @$size equals model.predict within 1e-4', ({ arch, width, size }) => {
    const model = createModel({ arch, width, inputSize: size, classes: 3, seed: 7 });
    const x = tf.randomUniform([3, size, size, 3], 0, 255, 'float32', 11);
    randomizeBatchNorms(model);
    const graph = lowerModel(model);
    const ops = graph.ops.map((o) => o.kind);
    expect(ops[0]).toBe('affine');
    expect(ops.at(-1)).toBe('softmax');
    // BN folded, dropout gone, activations fused: no standalone relu left in these nets.
    expect(ops.filter((k) => k === 'relu' || k === 'relu6')).toEqual([]);
    const ours = runGraph(graph, x.dataSync() as Float32Array, 3).output;
    const theirs = tfjsProbabilities(model, x);
    expect(ours.length).toBe(9);
    expect(maxAbsDiff(ours, theirs)).toBeLessThanOrEqual(1e-4);
    // Probabilities: rows sum to 1.
    for (let b = 0; b < 3; b++) expect(ours[b * 3]! + ours[b * 3 + 1]! + ours[b * 3 + 2]!).toBeCloseTo(1, 5);
    x.dispose();
    model.dispose();
  }, 60_000);

  it('lowers a MobileNet-v1-style classifier (same-padded convs, Reshape, Dropout, 1×1 conv head, softmax) with a given normalization', () => {
    const input = tf.input({ shape: [24, 24, 3] });
    let h = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv1' }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: 'conv1_bn' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: 'relu6', name: 'conv1_relu' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'dw1' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: 'dw1_bn' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: 'relu6', name: 'dw1_relu' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: [1, 1, 8], name: 'reshape_1' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dropout({ rate: 0.001, name: 'dropout' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.conv2d({ filters: 4, kernelSize: 1, padding: 'same', name: 'preds' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: 'softmax', name: 'act_softmax' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: [4], name: 'reshape_2' }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: h });
    randomizeBatchNorms(model);
    const graph = lowerModel(model, { normalize: { scale: 1 / 127.5, offset: -1 } });
    expect(graph.ops.map((o) => o.kind)).toEqual(['affine', 'conv2d', 'depthwise', 'maxpool', 'gap', 'dense', 'softmax']);
    const x = tf.randomUniform([2, 24, 24, 3], 0, 255, 'float32', 3);
    const ours = runGraph(graph, x.dataSync() as Float32Array, 2).output;
    const theirs = tf.tidy(() => (model.predict(tf.sub(tf.div(x, 127.5), 1)) as tf.Tensor).dataSync() as Float32Array);
    expect(maxAbsDiff(ours, theirs)).toBeLessThanOrEqual(1e-4);
    x.dispose();
    model.dispose();
  });

  it('keeps an explicit zero padding before a max pool as a pad op (zero and −∞ padding differ)', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    let h = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pad' }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'pool' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: h });
    // Mostly negative inputs: here zero padding wins windows that −∞ padding would not.
    const x = tf.randomUniform([2, 8, 8, 3], -10, 1, 'float32', 5);
    const graph = lowerModel(model);
    expect(graph.ops.map((o) => o.kind)).toEqual(['pad', 'maxpool', 'gap', 'softmax']);
    const ours = runGraph(graph, x.dataSync() as Float32Array, 2).output;
    expect(maxAbsDiff(ours, tfjsProbabilities(model, x))).toBeLessThanOrEqual(1e-5);
    x.dispose();
    model.dispose();
  });

  it('refuses a layer it has no mapping for, naming the layer and its class', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'c' }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.layerNormalization({ name: 'odd_norm' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: h });
    expect(() => lowerModel(model)).toThrow(/layer "odd_norm" \(LayerNormalization\)/);
    model.dispose();
  });
});
