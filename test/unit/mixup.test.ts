// Mixup for distillation: the plan's draws, the blend of pixels and targets, the config rule, and in
// the training loop the teacher labelling exactly the blended batch.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig } from '../../src/shared/run-config.js';
import { mixPixels, mixPlan, mixTargets } from '../../src/main/engine/train/mixup.js';
import { trainingBatches } from '../../src/main/engine/train/batches.js';
import { trainLoop } from '../../src/main/engine/train/train-loop.js';
import type { TrainItem, TrainSink } from '../../src/main/engine/train/train-types.js';
import type { TensorPredictor } from '../../src/main/engine/predict.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-mixup-'));
const items: TrainItem[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  for (let i = 0; i < 5; i++) {
    const w = 36 + 2 * i;
    const px = Buffer.alloc(w * 32 * 3);
    for (let p = 0; p < px.length; p++) px[p] = (p * (7 + i * 11) + i * 50) & 0xff;
    const file = path.join(tmp, `img${i}.png`);
    await sharp(px, { raw: { width: w, height: 32, channels: 3 } }).png().toFile(file);
    items.push({ key: `hash${i}`, path: file, label: i % 2 });
  }
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('mixup', () => {
  it('draws λ uniformly in [0, 1) per image from the seed and step, partners in reverse order', () => {
    const a = mixPlan(6, 7, 3);
    expect(Array.from(a.partner)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(mixPlan(6, 7, 3)).toEqual(a); // reproducible (a resumed run mixes the same)
    expect(Array.from(mixPlan(6, 7, 4).lambda)).not.toEqual(Array.from(a.lambda));
    expect(Array.from(mixPlan(6, 8, 3).lambda)).not.toEqual(Array.from(a.lambda));
    const big = mixPlan(20_000, 1, 0).lambda;
    const mean = big.reduce((s, v) => s + v, 0) / big.length;
    const variance = big.reduce((s, v) => s + (v - mean) ** 2, 0) / big.length;
    expect(Math.min(...big)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...big)).toBeLessThan(1);
    expect(mean).toBeCloseTo(0.5, 1.5); // U(0, 1): mean 1/2, variance 1/12
    expect(variance).toBeCloseTo(1 / 12, 2);
  });

  it('blends each image with its partner, and the targets the same way', () => {
    const plan = { lambda: Float32Array.from([0.25, 1, 0.5]), partner: Int32Array.from([2, 1, 0]) };
    // Three images of two values, in a buffer longer than the batch.
    const x = Float32Array.from([0, 4, 10, 20, 100, 200, 7, 7]);
    expect(Array.from(mixPixels(x, 3, 2, plan))).toEqual([0.25 * 0 + 0.75 * 100, 0.25 * 4 + 0.75 * 200, 10, 20, 50, 102]);
    expect(() => mixPixels(x, 3, 3, plan)).toThrow(/mixup/);
    const onehot = tf.tensor2d([[1, 0], [0, 1], [0, 1]]);
    const mask = tf.tensor1d([1, 1, 0]);
    const m = mixTargets(onehot, mask, plan);
    expect(m.onehot.arraySync()).toEqual([[0.25, 0.75], [0, 1], [0.5, 0.5]]);
    // A blend counts for a label loss only when both of its images had a label.
    expect(Array.from(m.mask.dataSync())).toEqual([0, 1, 0]);
    tf.dispose([onehot, mask, m.onehot, m.mask]);
  });

  it('is refused with cached teacher views (they label unblended crops), allowed live or without a teacher', () => {
    const base = { name: 'r', dataset: 'd', epochs: 1, student: { arch: 'refnet', inputSize: 32 }, data: { augment: { mixup: true } } };
    const cached = RunConfig.safeParse({ ...base, method: 'ssld', teacher: 't' });
    expect(cached.success).toBe(false);
    expect(cached.error!.issues[0]!.path).toEqual(['data', 'augment', 'mixup']);
    expect(cached.error!.issues[0]!.message).toMatch(/teacherCache to "off"/);
    expect(RunConfig.safeParse({ ...base, method: 'ssld', teacher: 't', teacherCache: 'off' }).success).toBe(true);
    expect(RunConfig.safeParse({ ...base, method: 'ce' }).success).toBe(true);
    // DML reads a teacher only when one is named.
    expect(RunConfig.safeParse({ ...base, method: 'dml', peers: [{ arch: 'refnet', inputSize: 32 }] }).success).toBe(true);
    expect(RunConfig.safeParse({ ...base, method: 'dml', teacher: 't', peers: [{ arch: 'refnet', inputSize: 32 }] }).success).toBe(false);
    expect(RunConfig.parse({ ...base, method: 'ce', data: {} }).data.augment.mixup).toBe(false);
  });

  it('the training loop: the live teacher labels exactly the blended batch', async () => {
    const S = 32;
    const augment = { flip: true, cropScaleMin: 0.5 };
    const net = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [S, S, 3] }), tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })] });
    const run = async (mixup: boolean) => {
      const seen: Float32Array[] = [];
      const teacher: TensorPredictor & { name: string } = {
        name: 'rec',
        inputSize: S,
        classes: 2,
        logits: (x: tf.Tensor4D) => {
          seen.push(x.dataSync() as Float32Array);
          return net.apply(tf.div(x, 255)) as tf.Tensor2D;
        },
      };
      const student = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [S, S, 3] }), tf.layers.dense({ units: 2 })] });
      const sink: TrainSink = { step: () => undefined, info: () => undefined, epochEnd: async () => undefined, control: () => 'run', progress: () => undefined, flag: () => undefined };
      const config = RunConfig.parse({
        name: 'r', dataset: 'd', method: 'ssld', teacher: 'rec', student: { arch: 'refnet', inputSize: S }, batchSize: 2, seed: 5, epochs: 2,
        data: { useLabels: false, useUnlabeled: true, augment: { ...augment, mixup } }, teacherCache: 'off',
      });
      await trainLoop({ config, classes: ['a', 'b'], train: items, val: [], students: [student], optimizers: [tf.train.adam(1e-3)], teacher, teacherId: 'rec', startEpoch: 0, cacheDir: path.join(tmp, 'cache'), sink });
      student.dispose();
      return seen;
    };
    // What the pipeline renders for those epochs, blended by the plan of each step.
    const expected: Float32Array[] = [];
    const plain: Float32Array[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      let step = epoch * 3;
      for await (const b of trainingBatches(items, { size: S, batchSize: 2, seed: 5, epoch, augment })) {
        const n = b.indices.length;
        plain.push(b.x.slice(0, n * S * S * 3));
        expected.push(mixPixels(b.x, n, S * S * 3, mixPlan(n, 5, step++)));
      }
    }
    const mixed = await run(true);
    expect(mixed).toHaveLength(6); // 3 steps (2 + 2 + 1 images) × 2 epochs
    mixed.forEach((m, i) => expect(Array.from(m)).toEqual(Array.from(expected[i]!)));
    const unmixed = await run(false);
    unmixed.forEach((m, i) => expect(Array.from(m)).toEqual(Array.from(plain[i]!)));
    expect(Array.from(mixed[0]!)).not.toEqual(Array.from(plain[0]!));
    net.dispose();
  });
});
