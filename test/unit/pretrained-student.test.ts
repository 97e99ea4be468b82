import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { StudentSpec } from '../../src/shared/run-config.js';
import { loadModelDir } from '../../src/main/engine/model-io.js';
import { countTrainableParams, createStudent } from '../../src/main/engine/models/index.js';
import { applyTap, pooledDim, tapModel } from '../../src/main/engine/models/feature-tap.js';
import { buildPretrainedStudent } from '../../src/main/engine/models/pretrained-student.js';
import { loadCheckpointStudent, restoreOptimizer, saveCheckpoint } from '../../src/main/engine/train/checkpoint.js';
import { TINY_CHANNELS, TINY_SIZE, writeTinyBackbone } from './tiny-backbone.js';

let source: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  source = await writeTinyBackbone();
});

/** The source model's pooled features on [0,255] pixels: MobileNet takes x/127.5 − 1. */
async function sourceOutput(layer: string, x: tf.Tensor4D): Promise<tf.Tensor> {
  const src = await loadModelDir(source);
  const cut = tf.model({ inputs: src.inputs, outputs: src.getLayer(layer).output as tf.SymbolicTensor });
  const out = cut.predict(tf.sub(tf.div(x, 127.5), 1)) as tf.Tensor;
  return out;
}

const pixels = (n: number, size: number, seed = 3) => tf.randomUniform([n, size, size, 3], 0, 255, 'float32', seed) as tf.Tensor4D;

/** conv kxk: k·k·cin·cout; depthwise: 9·c; BN: 2·c (γ, β). */
function tinyParams(c: readonly number[], classes: number): number {
  const [a, b, d] = c as [number, number, number];
  return 27 * a + 2 * a + (9 * a + 2 * a) + (a * b + 2 * b) + (9 * b + 2 * b) + (b * d + 2 * d) + (d * classes + classes);
}

describe('run config student specs', () => {
  it('accepts built-in, from and slim students; old configs stay valid', () => {
    expect(StudentSpec.parse({ arch: 'mobilenet_v2', width: 0.35, inputSize: 96 })).toEqual({ arch: 'mobilenet_v2', width: 0.35, inputSize: 96 });
    expect(StudentSpec.parse({ from: 'mobilenet_v1_075', inputSize: 96 })).toEqual({ from: 'mobilenet_v1_075', inputSize: 96 });
    expect(StudentSpec.parse({ slim: 'mobilenet_v1_075', width: 0.25, inputSize: 96 })).toMatchObject({ slim: 'mobilenet_v1_075', width: 0.25 });
    expect(StudentSpec.safeParse({ slim: 'x', width: 1.5, inputSize: 96 }).success).toBe(false);
  });
});

describe('a "from" student (pretrained backbone + new head)', () => {
  it('keeps the source weights: its features equal the source model\'s pooled features', async () => {
    const student = await createStudent({ from: source, inputSize: TINY_SIZE }, 2, 1);
    expect(countTrainableParams(student)).toBe(tinyParams(TINY_CHANNELS, 2));
    expect(student.layers.map((l) => l.getClassName())).not.toContain('Reshape'); // cut before the ImageNet head
    // Its BatchNorm layers follow the new data quickly (the source's Keras default is 0.99).
    const bns = student.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    expect(bns.length).toBe(5);
    for (const l of bns) expect((l.getConfig() as { momentum: number }).momentum).toBe(0.9);
    expect(pooledDim(student)).toBe(TINY_CHANNELS[2]);
    const x = pixels(3, TINY_SIZE);
    const feat = applyTap(tapModel(student, { pooled: true, map: false }, 'the student'), x, false).pooled!;
    const ref = await sourceOutput('global_average_pooling2d_1', x);
    const diff = tf.max(tf.abs(tf.sub(feat!, ref))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-5);
    expect(tf.max(tf.abs(ref)).dataSync()[0]).toBeGreaterThan(0.01);
  });

  it('takes another input size and a named feature layer (spatial: pooled before the head)', async () => {
    const { model } = await buildPretrainedStudent({ from: source, featureLayer: 'conv_pw_1_relu', inputSize: 32 }, 3, 1);
    expect(model.inputs[0]!.shape).toEqual([null, 32, 32, 3]);
    expect(model.outputs[0]!.shape).toEqual([null, 3]);
    expect(pooledDim(model)).toBe(TINY_CHANNELS[1]);
    expect(model.layers.some((l) => l.name.startsWith('conv_pw_2'))).toBe(false);
  });

  it('names the file and the layer when the feature layer does not exist', async () => {
    await expect(createStudent({ from: source, featureLayer: 'nope', inputSize: 32 }, 2)).rejects.toThrow(/model\.json: no layer "nope"/);
    await expect(createStudent({ from: '/no/such/dir', inputSize: 32 }, 2)).rejects.toThrow(/\/no\/such\/dir/);
  });
});

describe('a "slim" student (network slimming of the backbone)', () => {
  it('has the stated parameter count and keeps the largest-|γ| channels with their weights', async () => {
    const { model, plan } = await buildPretrainedStudent({ slim: source, width: 0.5, inputSize: TINY_SIZE }, 2, 1);
    const kept = TINY_CHANNELS.map((c) => c / 2);
    expect(countTrainableParams(model)).toBe(tinyParams(kept, 2));
    const src = await loadModelDir(source);
    // The last pointwise conv has no depthwise after it: its kept channels are exactly the top |γ| of its BN.
    const gamma = Array.from(src.getLayer('conv_pw_2_bn').getWeights()[0]!.dataSync());
    const top = gamma.map((g, c) => [Math.abs(g), c] as const).sort((a, b) => b[0] - a[0]).slice(0, kept[2]).map(([, c]) => c).sort((a, b) => a - b);
    expect(plan!.outChannels.get('conv_pw_2')).toEqual(top);
    // Copied weights: the slim kernels are the source kernels at the kept channels.
    for (const name of ['conv1', 'conv_dw_1', 'conv_pw_1', 'conv_pw_2', 'conv_pw_2_bn']) {
      const inCh = plan!.inChannels.get(name);
      const outCh = plan!.outChannels.get(name);
      const w = model.getLayer(name).getWeights()[0]!;
      let ref = src.getLayer(name).getWeights()[0]!;
      if (name.endsWith('_bn')) ref = tf.gather(ref, inCh!, 0);
      else if (name.startsWith('conv_dw')) ref = tf.gather(ref, inCh!, 2);
      else {
        if (inCh) ref = tf.gather(ref, inCh, 2);
        ref = tf.gather(ref, outCh!, 3);
      }
      expect(w.shape).toEqual(ref.shape);
      expect(tf.max(tf.abs(tf.sub(w, ref))).dataSync()[0]).toBe(0);
    }
    // The depthwise layer keeps the channels of the conv before it.
    expect(plan!.outChannels.get('conv_dw_1')).toEqual(plan!.outChannels.get('conv1'));
    // Where it is exact (the first block sees all input channels), activations equal the source's on the kept channels.
    const x = pixels(2, TINY_SIZE, 9);
    const cut = tf.model({ inputs: model.inputs, outputs: model.getLayer('conv1_relu').output as tf.SymbolicTensor });
    const mine = cut.predict(x) as tf.Tensor;
    const ref = tf.gather(await sourceOutput('conv1_relu', x), plan!.outChannels.get('conv1')!, 3);
    expect(tf.max(tf.abs(tf.sub(mine, ref))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('trains a step, checkpoints and resumes to the same weights and outputs', async () => {
    const student = await createStudent({ slim: source, width: 0.5, inputSize: 32 }, 2, 4);
    const opt = tf.train.adam(1e-2);
    const x = pixels(4, 32, 5);
    const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1], 'int32'), 2).toFloat();
    const before = student.getWeights().map((w) => w.clone());
    opt.minimize(() => tf.losses.softmaxCrossEntropy(y, student.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    const changed = student.getWeights().some((w, i) => tf.max(tf.abs(tf.sub(w, before[i]!))).dataSync()[0]! > 0);
    expect(changed).toBe(true);
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'slim-ckpt-')), 'ckpt');
    await saveCheckpoint(dir, [student], [opt], { epoch: 0, step: 1 });
    const back = await loadCheckpointStudent(dir, 0);
    const again = await createStudent({ slim: source, width: 0.5, inputSize: 32 }, 2, 4);
    again.setWeights(back.getWeights());
    const opt2 = tf.train.adam(1e-2);
    await restoreOptimizer(dir, 0, opt2);
    const a = student.predict(x) as tf.Tensor;
    const b = again.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    // The checkpoint is a plain layers model: standard classes only.
    const classes = new Set(back.layers.map((l) => l.getClassName()));
    for (const c of classes) expect(['InputLayer', 'Rescaling', 'Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'Activation', 'GlobalAveragePooling2D', 'Dense']).toContain(c);
  });
});

const MOBILENET = path.resolve('../shared/models/mobilenet_v1_0.75_224/model.json');
const haveMobilenet = fs.existsSync(MOBILENET);
if (!haveMobilenet) console.warn(`skipping the MobileNet v1 0.75 checks: ${MOBILENET} is absent`);

describe.skipIf(!haveMobilenet)('students from the real MobileNet v1 0.75 (../shared)', () => {
  it('slim ×0.25 stays under 0.5 M parameters; from keeps the 768 pooled features', async () => {
    const slim = await createStudent({ slim: MOBILENET, width: 0.25, inputSize: 96 }, 2, 1);
    const n = countTrainableParams(slim);
    expect(n).toBeLessThan(500_000);
    expect(pooledDim(slim)).toBe(192);
    const from = await createStudent({ from: MOBILENET, inputSize: 96 }, 2, 1);
    expect(pooledDim(from)).toBe(768);
  });
});
