// No leaks in a real training run: the number of live tensors is the same at the end of every epoch
// (the loop, the losses, the teacher, evaluation and checkpoints all release what they make).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { RunConfig } from '../../src/shared/run-config.js';
import { Store } from '../../src/main/store/index.js';
import { importDataset } from '../../src/main/datasets/import.js';
import { makeSyntheticDataset } from '../../src/main/demo/synthetic-dataset.js';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { createModel } from '../../src/main/engine/models/index.js';
import { buildTrainingSet } from '../../src/main/jobs/training-set.js';
import { trainLoop } from '../../src/main/engine/train/train-loop.js';
import { layersPredictor } from '../../src/main/engine/predict.js';
import type { TrainSink } from '../../src/main/engine/train/train-types.js';

describe('training memory', () => {
  it('keeps tf.memory().numTensors flat across the epochs of an SSLD run with a teacher', async () => {
    await initBackend();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-mem-'));
    const data = await makeSyntheticDataset({ dir: path.join(dir, 'data'), labeledPerClass: 8, unlabeled: 16, valPerClass: 6, size: 48, seed: 2 });
    const store = Store.open(path.join(dir, 'home'));
    try {
      const ds = (
        await importDataset(store, {
          name: 'mem',
          folders: [
            { path: data.labeled, role: 'labeled' },
            { path: data.unlabeled, role: 'unlabeled' },
            { path: data.val, role: 'val' },
          ],
        })
      ).dataset;
      const config = RunConfig.parse({
        name: 'mem',
        dataset: String(ds.id),
        method: 'ssld',
        teacher: 'x',
        student: { arch: 'mobilenet_v2', width: 0.35, inputSize: 32 },
        data: { useLabels: true, useUnlabeled: true },
        epochs: 4,
        batchSize: 8,
        teacherCache: 'off',
      });
      const set = buildTrainingSet(store, ds.id, config);
      const teacherModel = createModel({ arch: 'mobilenet_v2', width: 0.5, inputSize: 40, classes: 2, seed: 9 });
      const teacher = { name: 't', ...layersPredictor(teacherModel, 40) };
      const students = [createModel({ arch: 'mobilenet_v2', width: 0.35, inputSize: 32, classes: 2, seed: 1 })];
      const counts: number[] = [];
      const sink: TrainSink = {
        step() {},
        async epochEnd(_report, save) {
          await save(path.join(dir, `ckpt-${counts.length}`));
          counts.push(tf.memory().numTensors);
        },
        control: () => 'run',
        progress() {},
        flag() {},
      };
      await trainLoop({ config, classes: set.classes, train: set.train, val: set.val, students, optimizers: [tf.train.adam(0.002)], teacher, startEpoch: 0, cacheDir: path.join(dir, 'cache'), sink });
      expect(counts).toHaveLength(4);
      // Epoch 1 creates the optimizer slots; from then on nothing may accumulate.
      expect(counts[2]).toBe(counts[1]);
      expect(counts[3]).toBe(counts[1]);
    } finally {
      store.close();
    }
  }, 600_000);
});
