import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countTrainableParams, createModel, makeDivisible, parseNetName } from '../../src/main/engine/models/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function weightsOf(m: tf.LayersModel): Buffer[] {
  return m.getWeights().map((w) => {
    const a = w.dataSync() as Float32Array;
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  });
}

describe('model architectures', () => {
  // Reference counts: torchvision (mobilenet_v2 / resnet18) and ../shared/bench/torch_ref.py (refnet),
  // sum(p.numel() for p in m.parameters()) for num_classes=2.
  it.each([
    ['refnet', undefined, 138_050],
    ['mobilenet_v2', 0.35, 398_690],
    ['mobilenet_v2', 0.5, 690_242],
    ['mobilenet_v2', 1.0, 2_226_434],
    ['resnet18', undefined, 11_177_538],
  ] as const)('%s width %s has %i trainable params', (arch, width, expected) => {
    const m = createModel({ arch, width, inputSize: 32, classes: 2, seed: 1 });
    expect(countTrainableParams(m)).toBe(expected);
    m.dispose();
  });

  it('counts classifier params for other class counts', () => {
    const m = createModel({ arch: 'refnet', inputSize: 32, classes: 10, seed: 1 });
    expect(countTrainableParams(m)).toBe(138_050 - 514 + 256 * 10 + 10);
    m.dispose();
  });

  it('rounds channels like torchvision _make_divisible', () => {
    expect([32 * 0.35, 16 * 0.35, 24 * 0.35, 96 * 0.35, 320 * 0.35].map((v) => makeDivisible(v))).toEqual([16, 8, 8, 32, 112]);
    expect(makeDivisible(1280)).toBe(1280);
  });

  it.each([
    ['refnet', undefined, 32],
    ['refnet', undefined, 57],
    ['mobilenet_v2', 0.35, 32],
    ['mobilenet_v2', 0.35, 45],
    ['resnet18', undefined, 33],
  ] as const)('%s (width %s) at %i px outputs [N, classes] logits', (arch, width, size) => {
    const m = createModel({ arch, width, inputSize: size, classes: 3, seed: 2 });
    const y = tf.tidy(() => m.predict(tf.randomUniform([2, size, size, 3], 0, 255, 'float32', 5)) as tf.Tensor);
    expect(y.shape).toEqual([2, 3]);
    const v = y.dataSync();
    expect(v.every(Number.isFinite)).toBe(true);
    // logits, not probabilities: rows need not sum to 1
    expect(Math.abs(v[0]! + v[1]! + v[2]! - 1)).toBeGreaterThan(1e-3);
    y.dispose();
    m.dispose();
  });

  it('optional classifier dropout (torchvision: 0.2) adds no parameters and is identity at inference', () => {
    const spec = { arch: 'mobilenet_v2', width: 0.35, inputSize: 32, classes: 2, seed: 5 } as const;
    const a = createModel(spec);
    const b = createModel({ ...spec, dropout: 0.2 });
    expect(a.layers.some((l) => l.getClassName() === 'Dropout')).toBe(false);
    expect(b.layers.some((l) => l.getClassName() === 'Dropout')).toBe(true);
    expect(countTrainableParams(b)).toBe(countTrainableParams(a));
    const x = tf.randomUniform([2, 32, 32, 3], 0, 255, 'float32', 3);
    expect(Array.from((b.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((a.predict(x) as tf.Tensor).dataSync()));
  });

  it('builds at 224 px', () => {
    const m = createModel({ arch: 'mobilenet_v2', width: 0.35, inputSize: 224, classes: 2, seed: 0 });
    expect(m.outputs[0]!.shape).toEqual([null, 2]);
    m.dispose();
  });

  it('rejects out-of-range sizes and widths on fixed-width nets', () => {
    expect(() => createModel({ arch: 'refnet', inputSize: 31, classes: 2 })).toThrow(/32\.\.224/);
    expect(() => createModel({ arch: 'refnet', inputSize: 225, classes: 2 })).toThrow(/32\.\.224/);
    expect(() => createModel({ arch: 'resnet18', width: 0.5, inputSize: 64, classes: 2 })).toThrow(/width/);
  });

  it('seed 0, the run default, reproduces too (tfjs reads a 0 seed as "unseeded")', () => {
    const spec = { arch: 'mobilenet_v2', width: 0.35, inputSize: 32, classes: 2, seed: 0 } as const;
    const a = weightsOf(createModel(spec));
    const b = weightsOf(createModel(spec));
    a.forEach((w, i) => expect(w.equals(b[i]!)).toBe(true));
  });

  it('a seed gives identical weights; another seed different ones', () => {
    const spec = { arch: 'mobilenet_v2', width: 0.35, inputSize: 32, classes: 2 } as const;
    const ma = createModel({ ...spec, seed: 7 });
    const a = weightsOf(ma);
    const b = weightsOf(createModel({ ...spec, seed: 7 }));
    const c = weightsOf(createModel({ ...spec, seed: 8 }));
    expect(a.length).toBe(b.length);
    a.forEach((w, i) => expect(w.equals(b[i]!)).toBe(true));
    const kernels = ma.weights.map((w, i) => (/kernel/.test(w.name) ? i : -1)).filter((i) => i >= 0);
    expect(kernels.length).toBe(1 + 2 + 16 * 3 + 1 + 1); // stem, b0 (dw, project), 16 × (expand, dw, project), head, dense
    for (const i of kernels) expect(a[i]!.equals(c[i]!)).toBe(false);
    // every initializer got its own seed: two equally shaped kernels differ
    const r = createModel({ arch: 'refnet', inputSize: 32, classes: 2, seed: 7 });
    const [k1, k2] = ['s3_pw2', 's3_dw2'].map((n) => r.getLayer(n).getWeights()[0]!.dataSync());
    expect(k1![0]).not.toBe(k2![0]);
    const [d1, d2] = ['s2_dw2', 's3_dw1'].map((n) => r.getLayer(n).getWeights()[0]!.dataSync());
    expect(Array.from(d1!)).not.toEqual(Array.from(d2!));
  });

  it('initializes with torch-like scales', () => {
    const m = createModel({ arch: 'refnet', inputSize: 32, classes: 2, seed: 3 });
    // PyTorch default for the 1×1 conv 128→256: U(±1/√128)
    const k = m.getLayer('s3_pw1').getWeights()[0]!.dataSync();
    const bound = 1 / Math.sqrt(128);
    expect(Math.max(...Array.from(k, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(k, Math.abs))).toBeGreaterThan(0.95 * bound);
    m.dispose();
  });

  it.each([
    ['refnet', undefined],
    ['mobilenet_v2', 0.35],
  ] as const)('%s round-trips through model.json with identical outputs', async (arch, width) => {
    const m = createModel({ arch, width, inputSize: 40, classes: 2, seed: 4 });
    // Non-trivial BN statistics so inference-mode BN is exercised.
    for (const w of m.weights) {
      if (w.name.includes('moving_variance')) w.write(tf.fill(w.shape as number[], 1.7));
      if (w.name.includes('moving_mean')) w.write(tf.fill(w.shape as number[], 0.05));
    }
    let saved: tf.io.ModelArtifacts | undefined;
    await m.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    expect(saved).toBeDefined();
    const json = JSON.stringify(saved!.modelTopology);
    expect(json).toContain('Rescaling');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomUniform([3, 40, 40, 3], 0, 255, 'float32', 9);
    const y1 = (m.predict(x) as tf.Tensor).dataSync();
    const y2 = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(y2)).toEqual(Array.from(y1));
    expect(countTrainableParams(loaded)).toBe(countTrainableParams(m));
    m.dispose();
    loaded.dispose();
  });

  it('normalizes [0,255] inside the model', () => {
    const m = createModel({ arch: 'refnet', inputSize: 32, classes: 2, seed: 0 });
    const norm = tf.model({ inputs: m.inputs, outputs: m.getLayer('normalize').output as tf.SymbolicTensor });
    const v = (norm.predict(tf.tensor4d([0, 127.5, 255], [1, 1, 1, 3]).tile([1, 32, 32, 1])) as tf.Tensor).dataSync();
    expect(Array.from(v.slice(0, 3))).toEqual([-1, 0, 1]);
  });

  it('parses benchmark net names', () => {
    expect(parseNetName('mobilenet_v2_035')).toEqual({ arch: 'mobilenet_v2', width: 0.35 });
    expect(parseNetName('mobilenet_v2_100')).toEqual({ arch: 'mobilenet_v2', width: 1 });
    expect(parseNetName('resnet18')).toEqual({ arch: 'resnet18' });
    expect(() => parseNetName('vgg16')).toThrow(/unknown net/);
  });
});
