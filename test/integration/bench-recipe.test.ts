// `distill bench --recipe DIR` end to end on a tiny generated folder with the tiny pretrained backbone:
// the teacher is fine-tuned from it, the recipe chooses a slimmed student within the budget, and the
// JSON lines report the teacher's val accuracy and the student's per epoch against wall time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticDataset } from '../../src/main/demo/synthetic-dataset.js';
import { writeTinyBackbone } from '../unit/tiny-backbone.js';

const BIN = path.resolve(__dirname, '../..', 'bin', 'distill.js');
let work: string;
let backbone: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-bench-recipe-'));
  const layout = await makeSyntheticDataset({ dir: path.join(work, 'data'), labeledPerClass: 10, unlabeled: 20, valPerClass: 6, size: 48, seed: 4 });
  // The folder layout bench --recipe expects.
  expect(path.basename(layout.labeled)).toBe('labeled');
  backbone = await writeTinyBackbone(5);
}, 120_000);

describe('distill bench --recipe', () => {
  it('reports the teacher, the recipe and the student per epoch as JSON lines', () => {
    const home = path.join(work, 'home');
    const r = spawnSync(process.execPath, [BIN, 'bench', '--recipe', path.join(work, 'data'), '--backbone', backbone, '--params', '2k', '--minutes', '0.2', '--teacher-epochs', '1', '--seed', '3', '--json', '--home', home], { encoding: 'utf8', timeout: 900_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const teacher = lines.find((l) => l.type === 'teacher')!;
    expect(teacher.valAccuracy).toBeGreaterThanOrEqual(0);
    const recipe = lines.find((l) => l.type === 'recipe')!;
    // The tiny backbone at ×0.5 has ≈0.5k parameters with its head, ×0.25/0.35 fewer: all fit 2k; slimmed students since a backbone is given.
    expect((recipe.student as { slim?: string }).slim).toBe(backbone);
    // The backbone teacher exposes pooled features: the recipe distills them too.
    expect(recipe.feature).toEqual({ weight: 1, kind: 'mse' });
    const epochs = lines.filter((l) => l.type === 'student');
    expect(epochs.length).toBe(recipe.epochs);
    // The run's config is the plan's: the student, its epochs, the teacher pass, and the seed asked for.
    const shown = spawnSync(process.execPath, [BIN, 'runs', 'show', 'bench-student', '--json', '--home', home], { encoding: 'utf8' });
    expect(shown.status, shown.stderr).toBe(0);
    const config = (JSON.parse(shown.stdout.trim().split('\n').pop()!) as { config: Record<string, unknown> }).config;
    expect(config.seed).toBe(3);
    expect(config.student).toEqual(recipe.student);
    expect(config.epochs).toBe(recipe.epochs);
    expect(config.teacherCache).toBe(recipe.teacherCache);
    if (recipe.teacherCache === 'views') {
      // Teacher views: at least the default few, at most one per epoch.
      expect(recipe.views as number).toBeGreaterThanOrEqual(Math.min(recipe.epochs as number, 4));
      expect(recipe.views as number).toBeLessThanOrEqual(Math.max(recipe.epochs as number, 4));
      expect(config.teacherViews).toBe(recipe.views);
    } else {
      // The teacher live: a fresh crop every epoch, no stored views.
      expect(recipe.teacherCache).toBe('off');
      expect(recipe.views).toBeNull();
      expect(config.teacherViews).toBeUndefined();
    }
    expect(epochs.map((e) => e.wallSeconds as number)).toEqual([...epochs.map((e) => e.wallSeconds as number)].sort((a, b) => a - b));
    const result = lines[lines.length - 1]!;
    expect(result.teacherValAccuracy).toBe(teacher.valAccuracy);
    expect(result.valAccuracy).toBe(epochs[epochs.length - 1]!.valAccuracy);
    // The student's own minutes: after the teacher, within the whole.
    expect(result.studentMinutes as number).toBeGreaterThan(0);
    expect((result.studentMinutes as number) * 60).toBeLessThanOrEqual((result.minutes as number) * 60 - (teacher.wallSeconds as number) + 1e-6);
  }, 900_000);
});
