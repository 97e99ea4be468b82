// An ONNX teacher through the real `distill` CLI on a generated two-class set: import (with range and
// mean/std flags), mining, eval and an SSLD run whose soft labels come from onnxruntime; the same file as
// a --backbone for a trained head. The teacher is a
// hand-set network (1×1 conv: red minus blue and blue minus red, ReLU, average pool, Gemm) that tells the
// set's red-ish circles from its blue-ish squares, so mining precision and eval accuracy are checkable.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticDataset, type SyntheticLayout } from '../../src/main/demo/synthetic-dataset.js';
import { tinyClassifierOnnx, type TinyWeights } from '../helpers/onnx-graphs.js';
import { distillCli } from '../helpers/cli.js';

const SIZE = 32;
let work: string;
let home: string;
let data: SyntheticLayout;
let teacherFile: string;

const { cli, result } = distillCli(() => home);

/** Filter 0 = R − B, filter 1 = B − R (1×1 conv, OIHW); logits = 8 × pooled (circle, square). */
const RED_VS_BLUE: TinyWeights = {
  conv: Float32Array.from([1, 0, -1, -1, 0, 1]),
  convBias: new Float32Array(2),
  dense: Float32Array.from([8, 0, 0, 8]),
  denseBias: new Float32Array(2),
  filters: 2,
  kernel: 1,
  classes: 2,
};

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-onnx-cli-'));
  home = path.join(work, 'home');
  data = await makeSyntheticDataset({ dir: path.join(work, 'data'), labeledPerClass: 8, unlabeled: 40, valPerClass: 12, size: 48, seed: 9 });
  teacherFile = path.join(work, 'red-vs-blue.onnx');
  fs.writeFileSync(teacherFile, tinyClassifierOnnx({ size: SIZE, weights: RED_VS_BLUE, layout: 'NHWC', head: 'softmax' }));
}, 120_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('an ONNX teacher through the CLI', () => {
  it('import → mine → eval → SSLD run', () => {
    result(['dataset', 'add', 'shapes', '--labeled', data.labeled, '--unlabeled', data.unlabeled, '--val', data.val]);
    const t = result([
      'teacher', 'import', 'rvb', teacherFile, '--classes', 'circle,square',
      '--input-range', '0-1', '--mean', '0.5,0.5,0.5', '--std', '0.25,0.25,0.25',
    ]);
    expect(t.inputSize).toBe(SIZE);
    expect(t.classes).toEqual(['circle', 'square']);

    const m = result(['mine', '--dataset', 'shapes', '--teacher', 'rvb', '--per-class', '10']);
    expect(m.perClass).toEqual({ circle: 10, square: 10 });
    expect(m.selected).toBe(20);
    // Mined labels checked against the pool's truth (never imported): the teacher sees the hues.
    const truth = new Map(
      fs.readFileSync(data.truthCsv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',') as [string, string]),
    );
    const db = new Database(path.join(home, 'distill.db'), { readonly: true });
    const picked = db
      .prepare(`SELECT i.path, s.label FROM mining_selections s JOIN images i ON i.id = s.image_id WHERE s.mining_id = ?`)
      .all(m.mining) as { path: string; label: string }[];
    db.close();
    expect(picked).toHaveLength(20);
    const right = picked.filter((p) => truth.get(path.basename(p.path)) === p.label).length;
    expect(right / picked.length).toBeGreaterThanOrEqual(0.9);

    const e = result(['eval', 'rvb', '--data', data.val]);
    expect(e.n).toBe(24);
    expect(e.accuracy).toBeGreaterThanOrEqual(0.9);

    // Live teacher (no views cache) on the labeled + mined images: onnxruntime inside the training step.
    const r = result([
      'run', '--name', 'ssld-onnx', '--dataset', 'shapes', '--method', 'ssld', '--teacher', 'rvb', '--teacher-cache', 'off',
      '--arch', 'mobilenet_v2', '--width', '0.35', '--size', '32', '--batch', '16', '--epochs', '1', '--seed', '3',
    ]);
    expect(r.epochs).toBe(1);
    const db2 = new Database(path.join(home, 'distill.db'), { readonly: true });
    const js = db2.prepare(`SELECT value FROM metrics WHERE run_id = ? AND name = 'loss/js'`).all(r.run) as { value: number }[];
    const kl = db2.prepare(`SELECT value FROM metrics WHERE run_id = ? AND name = 'val/kl_teacher'`).all(r.run) as { value: number }[];
    db2.close();
    expect(js.length).toBeGreaterThan(0);
    expect(js.every((x) => Number.isFinite(x.value) && x.value > 0)).toBe(true);
    expect(kl.length).toBe(1);
  }, 600_000);

  it('teacher train --backbone model.onnx: a head on the pooled features before its Gemm, saved as one .onnx teacher', () => {
    const t = result(['teacher', 'train', 'rvb-head', '--dataset', 'shapes', '--backbone', teacherFile, '--input-range', '0-1', '--views', '1', '--epochs', '60']);
    expect(t.valAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(fs.existsSync(path.join(home, 'teachers', 'rvb-head', 'model.onnx'))).toBe(true);
    // The saved teacher runs through the one teacher path (onnxruntime) with the accuracy the trainer reported.
    const e = result(['eval', 'rvb-head', '--data', data.val]);
    expect(e.accuracy).toBeCloseTo(t.valAccuracy as number, 10);
  }, 300_000);

  it('refuses a file that is not ONNX, naming it, and registers nothing', () => {
    const bad = path.join(work, 'not-a-model.onnx');
    fs.writeFileSync(bad, 'plain text');
    const r = cli(['teacher', 'import', 'bad', bad, '--classes', 'circle,square']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^distill: .*not-a-model\.onnx: not an ONNX model/);
    const ls = result(['teacher', 'ls']);
    expect(ls.teachers).toBe(2);
  });
});
