import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { chooseRecipe, chooseTeacherPass, chooseViews, HINTS_OVER_LIVE, MAX_EPOCHS, parseParamBudget, RUN_OVER_MEASURED, type RecipeCandidate } from '../../src/main/engine/recipe/choose.js';
import { candidateSpecs, measureTeacherPass, PRETRAINED_SIZES, SCRATCH_SIZES } from '../../src/main/engine/recipe/measure.js';
import type { Teacher } from '../../src/main/engine/train/train-types.js';
import { nativeInputSize, readTopology } from '../../src/main/engine/models/pretrained-topology.js';
import { TINY_SIZE, writeTinyBackbone } from './tiny-backbone.js';

const slim = (width: number, inputSize: number, params: number, ips: number): RecipeCandidate => ({ student: { slim: 'bb', width, inputSize }, params, trainImgPerSec: ips, pretrained: true });
const v2 = (width: number, params: number, ips: number): RecipeCandidate => ({ student: { arch: 'mobilenet_v2', width, inputSize: 96 }, params, trainImgPerSec: ips, pretrained: false });
// 2,700 val images: a candidate at 90 img/s evaluates them in 10 s (inference at 3× its training rate).
const budget = { maxParams: 500_000, minutes: 20, trainImages: 8000, overheadSeconds: 100, valImages: 2700 };

describe('default recipe rule', () => {
  it('picks the strongest pretrained student within the parameter budget that gets its minimum epochs', () => {
    const c = [
      slim(0.25, 128, 150_000, 300),
      slim(0.5, 128, 460_000, 180),
      slim(0.5, 160, 460_000, 90),
      slim(0.5, 224, 460_000, 40),
      slim(1, 128, 1_800_000, 60),
      v2(0.35, 400_000, 300),
    ];
    const r = chooseRecipe(c, budget);
    // An epoch costs images / img/s × 1.1 (the run's pipeline over the measured step) + val / (3 × img/s).
    // slim 0.5 @224: (1200 − 100) / (8000/40 · 1.1 + 2700/120) = 4.5 → 4 epochs < 8: too few.
    // slim 0.5 @160: (1200 − 100) / (8000/90 · 1.1 + 10) = 10.2 → 10 epochs ≥ 8; more params than ×0.25, larger input than @128.
    expect(r.candidate).toBe(c[2]);
    expect(RUN_OVER_MEASURED).toBe(1.1);
    expect(r.epochs).toBe(10);
    expect(r.secondsPerEpoch).toBeCloseTo((8000 / 90) * 1.1 + 10, 6);
    expect(r.expectedSeconds).toBeCloseTo(100 + 10 * r.secondsPerEpoch, 6);
    expect(r.table.find((t) => t.student === c[3]!.student)!.verdict).toBe('only 4 epoch(s) in 20 min (needs 8)');
    expect(r.table.find((t) => t.student === c[4]!.student)!.verdict).toMatch(/parameter budget/);
  });

  it('skips a candidate too slow for its minimum epochs, caps epochs, and falls back to the fastest', () => {
    const slow = slim(0.5, 128, 460_000, 10); // (1200−100)/(880+90) → 1 epoch < 8
    const fast = slim(0.25, 96, 150_000, 2000);
    const r = chooseRecipe([slow, fast], budget);
    expect(r.candidate).toBe(fast);
    expect(r.epochs).toBe(MAX_EPOCHS);
    const none = chooseRecipe([v2(0.35, 400_000, 5), v2(0.5, 450_000, 4)], budget);
    expect(none.candidate.trainImgPerSec).toBe(5);
    expect(none.epochs).toBe(1);
    expect(() => chooseRecipe([v2(1, 2_000_000, 50)], budget)).toThrow(/at most 500000 parameters/);
  });

  it('spends spare minutes on teacher views, up to one per epoch and what the cache may hold', () => {
    // No spare time: the default few views (never more than the epochs).
    expect(chooseViews({ epochs: 15, spareSeconds: 20, secondsPerView: 35, maxViews: 100 })).toBe(4);
    expect(chooseViews({ epochs: 2, spareSeconds: 0, secondsPerView: 35, maxViews: 100 })).toBe(2);
    // 20 spare minutes at 35 s a view buy 34 more: capped at one per epoch.
    expect(chooseViews({ epochs: 30, spareSeconds: 1200, secondsPerView: 35, maxViews: 100 })).toBe(30);
    // 5 spare minutes buy 8 more.
    expect(chooseViews({ epochs: 30, spareSeconds: 300, secondsPerView: 35, maxViews: 100 })).toBe(12);
    // The cache's memory bound wins, but never below the default.
    expect(chooseViews({ epochs: 30, spareSeconds: 1200, secondsPerView: 35, maxViews: 9 })).toBe(9);
    expect(chooseViews({ epochs: 30, spareSeconds: 1200, secondsPerView: 35, maxViews: 1 })).toBe(4);
    // Over budget already, or no teacher measured: the default.
    expect(chooseViews({ epochs: 30, spareSeconds: -50, secondsPerView: 35, maxViews: 100 })).toBe(4);
    expect(chooseViews({ epochs: 30, spareSeconds: 1200, secondsPerView: 0, maxViews: 100 })).toBe(4);
  });

  it('runs the teacher live when the cache would hold a fresh view per epoch', () => {
    const live = { seconds: 3300, secondsPerEpoch: 50, teacherSecondsPerEpoch: 28 };
    // Fewer views than epochs (the 20-minute case): the cache, as planned.
    expect(chooseTeacherPass({ epochs: 18, views: 4 }, live)).toEqual({ mode: 'views', epochs: 18, views: 4 });
    // A short run whose every epoch already has its own view among the default few: the cache.
    expect(chooseTeacherPass({ epochs: 3, views: 3 }, live)).toEqual({ mode: 'views', epochs: 3, views: 3 });
    // One view per epoch: live; the budget's 3300 s at 78 s an epoch would give 42 epochs, capped as cached ones are.
    expect(chooseTeacherPass({ epochs: 30, views: 30 }, live)).toEqual({ mode: 'live', epochs: MAX_EPOCHS, secondsPerEpoch: 78 });
    // A budget that fits fewer live epochs than the cap.
    expect(chooseTeacherPass({ epochs: 20, views: 20 }, { ...live, seconds: 1600 })).toEqual({ mode: 'live', epochs: 20, secondsPerEpoch: 78 });
    // Live would give fewer epochs than the cache planned (a teacher far slower live): the cache.
    expect(chooseTeacherPass({ epochs: 30, views: 30 }, { ...live, teacherSecondsPerEpoch: 200 })).toEqual({ mode: 'views', epochs: 30, views: 30 });
  });

  it('with hints, runs the teacher live whenever that leaves a pretrained student its minimum epochs', () => {
    const live = { seconds: 1000, secondsPerEpoch: 50, teacherSecondsPerEpoch: 28 };
    const hinted = 78 * HINTS_OVER_LIVE;
    // 1000 s at 78 s × 1.15 an epoch: 11 live epochs, fewer than the 18 cached ones, and still live (hints need the teacher's maps).
    expect(chooseTeacherPass({ epochs: 18, views: 4 }, live, true)).toEqual({ mode: 'live', epochs: Math.floor(1000 / hinted), secondsPerEpoch: hinted });
    expect(Math.floor(1000 / hinted)).toBe(11);
    expect(chooseTeacherPass({ epochs: 18, views: 4 }, live, false)).toEqual({ mode: 'views', epochs: 18, views: 4 });
    // 700 s: 7 hinted live epochs, under the minimum of 8: the cache, without hints.
    expect(chooseTeacherPass({ epochs: 11, views: 4 }, { ...live, seconds: 700 }, true)).toEqual({ mode: 'views', epochs: 11, views: 4 });
    // Live epochs stay capped.
    expect(chooseTeacherPass({ epochs: 30, views: 30 }, { ...live, seconds: 9000 }, true)).toEqual({ mode: 'live', epochs: MAX_EPOCHS, secondsPerEpoch: hinted });
  });

  it('parses parameter budgets', () => {
    expect(parseParamBudget('0.5M')).toBe(500_000);
    expect(parseParamBudget('250k')).toBe(250_000);
    expect(parseParamBudget('123456')).toBe(123_456);
    expect(() => parseParamBudget('lots')).toThrow(/--params.*"lots"/);
  });
});

describe('recipe candidates', () => {
  it('slimmed students at the published sizes up to the backbone\'s own input size; scratch students small', async () => {
    await tf.setBackend('cpu');
    const tinyJson = await writeTinyBackbone(3); // a 48 px backbone: smaller than every published size
    const tiny = path.dirname(tinyJson);
    expect(nativeInputSize(readTopology(tinyJson))).toBe(TINY_SIZE);
    const specs = candidateSpecs(tinyJson);
    expect(specs.map((s) => s.student.inputSize)).toEqual([TINY_SIZE, TINY_SIZE, TINY_SIZE]);
    expect(specs.every((s) => s.pretrained)).toBe(true);
    // A 160 px backbone: 128 and 160 only.
    const json = JSON.parse(fs.readFileSync(tinyJson, 'utf8')) as { modelTopology: { config: { layers: { config: { batch_input_shape?: unknown } }[] } } };
    json.modelTopology.config.layers[0]!.config.batch_input_shape = [null, 160, 160, 3];
    const at160 = path.join(tiny, 'model-160.json');
    fs.writeFileSync(at160, JSON.stringify(json));
    expect([...new Set(candidateSpecs(at160).map((s) => s.student.inputSize))]).toEqual([128, 160]);
    // Not fixed in the file: taken as an ImageNet backbone (224).
    json.modelTopology.config.layers[0]!.config.batch_input_shape = [null, null, null, 3];
    fs.writeFileSync(at160, JSON.stringify(json));
    expect([...new Set(candidateSpecs(at160).map((s) => s.student.inputSize))]).toEqual([...PRETRAINED_SIZES]);
    expect([...new Set(candidateSpecs(null).map((s) => s.student.inputSize))]).toEqual([...SCRATCH_SIZES]);
    fs.rmSync(tiny, { recursive: true, force: true });
  });
});

describe('measuring the teacher', () => {
  it('times the pass the teacher cache will run: the tapped forward when features are cached, else the logits', async () => {
    await tf.setBackend('cpu');
    const calls = { logits: 0, tapped: 0 };
    const teacher: Teacher = {
      name: 't',
      inputSize: 8,
      classes: 2,
      logits: (x) => {
        calls.logits++;
        return tf.zeros([x.shape[0], 2]);
      },
      tapped: (x) => {
        calls.tapped++;
        return { logits: tf.zeros([x.shape[0], 2]), features: tf.zeros([x.shape[0], 3]) };
      },
    } as Teacher;
    const before = tf.memory().numTensors;
    expect(await measureTeacherPass(teacher, { batch: 4, steps: 2, features: true })).toBeGreaterThan(0);
    expect(calls).toEqual({ logits: 0, tapped: 3 }); // a warm-up batch and two timed ones
    expect(await measureTeacherPass(teacher, { batch: 4, steps: 2, features: false })).toBeGreaterThan(0);
    expect(calls).toEqual({ logits: 3, tapped: 3 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
