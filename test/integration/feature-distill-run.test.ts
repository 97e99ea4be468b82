// SSLD + feature distillation through the real CLI on a tiny generated set: a slimmed pretrained
// student (the tiny MobileNet v1 look-alike), a trained teacher with a Dense head; both loss parts are
// logged, the teacher's features are cached as float16 beside its soft labels, the adapter stays out
// of the exported student, and --resume continues with it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticDataset, type SyntheticLayout } from '../../src/main/demo/synthetic-dataset.js';
import { writeTinyBackbone } from '../unit/tiny-backbone.js';
import { distillCli } from '../helpers/cli.js';

let work: string;
let home: string;
let data: SyntheticLayout;
let backbone: string;

const { cli, result } = distillCli(() => home);

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-feat-'));
  home = path.join(work, 'home');
  data = await makeSyntheticDataset({ dir: path.join(work, 'data'), labeledPerClass: 12, unlabeled: 24, valPerClass: 8, size: 48, seed: 2 });
  backbone = await writeTinyBackbone(3);
  result(['dataset', 'add', 'shapes', '--labeled', data.labeled, '--unlabeled', data.unlabeled, '--val', data.val]);
  result(['teacher', 'train', 'tiny', '--dataset', 'shapes', '--arch', 'refnet', '--size', '32', '--epochs', '1', '--batch', '16']);
}, 300_000);

describe('SSLD + feature distillation', () => {
  it('recalibrates the slimmed student\'s BatchNorm, logs js and feat, keeps the adapter out of the export, resumes', () => {
    const config = {
      name: 'slim-feat',
      dataset: 'shapes',
      method: 'ssld',
      teacher: 'tiny',
      student: { slim: backbone, width: 0.5, inputSize: 32 },
      data: { useLabels: false, useUnlabeled: true },
      loss: { feature: { weight: 0.5, kind: 'mse' } },
      epochs: 1,
      batchSize: 16,
    };
    const file = path.join(work, 'run.json');
    fs.writeFileSync(file, JSON.stringify(config));
    const run = cli(['run', '--config', file]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.lines.at(-1)!;
    expect(r.epochs).toBe(1);
    // Its ImageNet-era BatchNorm statistics are measured again on the 48 training images first.
    expect(run.lines.filter((l) => l.type === 'info').map((l) => l.message)).toContainEqual(expect.stringMatching(/^student 0: BatchNorm statistics of [1-9]\d* layers measured on 48 training images$/));

    const db = new Database(path.join(home, 'distill.db'), { readonly: true });
    const names = db.prepare(`SELECT DISTINCT name FROM metrics WHERE run_id = ?`).all(r.run).map((x) => (x as { name: string }).name);
    const feat = db.prepare(`SELECT value FROM metrics WHERE run_id = ? AND name = 'loss/feat'`).all(r.run).map((x) => (x as { value: number }).value);
    const params = (db.prepare(`SELECT params FROM runs WHERE id = ?`).get(r.run) as { params: number }).params;
    const ckpt = (db.prepare(`SELECT dir FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC LIMIT 1`).get(r.run) as { dir: string }).dir;
    db.close();
    expect(names).toEqual(expect.arrayContaining(['loss/js', 'loss/feat', 'train/js', 'train/feat']));
    expect(feat.length).toBeGreaterThan(1);
    expect(feat.every((v) => Number.isFinite(v) && v > 0)).toBe(true);

    // The teacher's pooled features are cached with its soft labels (one view for a 1-epoch run): float16, 2·D bytes per image.
    expect(run.lines.filter((l) => l.type === 'info').map((l) => l.message)).toContain('teacher soft labels and features: 48 view(s) computed, 0 reused from the cache');
    const cacheDir = path.join(home, 'cache', 'teacher-views');
    const files = fs.readdirSync(cacheDir).sort();
    expect(files.map((f) => path.extname(f))).toEqual(['.bin', '.f16', '.json']);
    const meta = JSON.parse(fs.readFileSync(path.join(cacheDir, files[2]!), 'utf8')) as { featureDim: number; keys: string[] };
    expect(meta.keys).toHaveLength(48);
    expect(fs.statSync(path.join(cacheDir, files[1]!)).size).toBe(48 * meta.featureDim * 2);

    // The checkpoint keeps the adapter in its own files; the student model has none of it.
    expect(fs.existsSync(path.join(ckpt, 'adapter.model.json'))).toBe(true);
    const studentJson = fs.readFileSync(path.join(ckpt, 'student-0.model.json'), 'utf8');
    expect(studentJson).not.toContain('adapter');

    const out = path.join(work, 'export');
    const e = result(['export', 'slim-feat', '--format', 'tfjs', '--out', out]);
    expect(e.maxAbsDiff).toBeLessThan(1e-4);
    const exported = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as { weightsManifest: { weights: { name: string; shape: number[] }[] }[] };
    const weights = exported.weightsManifest.flatMap((g) => g.weights);
    expect(weights.some((w) => w.name.includes('adapter'))).toBe(false);
    const trainable = weights.filter((w) => !/moving_(mean|variance)/.test(w.name)).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    expect(trainable).toBe(params);
  });

  it('a cosine feature run resumes with its adapter', () => {
    const r = result(['run', '--name', 'from-cos', '--dataset', 'shapes', '--method', 'ssld', '--teacher', 'tiny', '--no-labels', '--from', backbone, '--size', '32',
      '--feature-weight', '1', '--feature-loss', 'cosine', '--epochs', '1', '--batch', '16']);
    expect(r.epochs).toBe(1);
    // Mark it unfinished as a crash would leave it, and continue for one more epoch.
    const db = new Database(path.join(home, 'distill.db'));
    db.prepare(`UPDATE runs SET status = 'failed', config_json = json_set(config_json, '$.epochs', 2) WHERE id = ?`).run(r.run);
    db.close();
    const again = cli(['run', '--resume', String(r.run)]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.lines.some((l) => String(l.message ?? '').includes('no feature adapter'))).toBe(false);
    expect(again.lines[again.lines.length - 1]!.epochs).toBe(2);
  });

  it('hints: a slimmed student regresses a teacher built on its backbone at the kept channels, resumes; a teacher on another backbone is refused before any step', () => {
    // The backbone teacher keeps the backbone's layers (and its 48 px input); the student runs at 32 px, so the teacher's maps are resized to the student's.
    result(['teacher', 'train', 'tinyb', '--dataset', 'shapes', '--backbone', backbone, '--epochs', '5']);
    const flags = ['--dataset', 'shapes', '--method', 'ssld', '--no-labels', '--slim', backbone, '--width', '0.5', '--size', '32', '--batch', '16', '--hint-weight', '2'];
    const run = cli(['run', '--name', 'slim-hint', '--teacher', 'tinyb', ...flags, '--epochs', '1']);
    expect(run.code, run.stderr).toBe(0);
    const r = run.lines.at(-1)!;
    expect(run.lines.filter((l) => l.type === 'info').map((l) => l.message)).toContain('hints: conv_pw_1_relu (8 channels), conv_pw_2_relu (16 channels)');
    const db = new Database(path.join(home, 'distill.db'));
    const hint = db.prepare(`SELECT value FROM metrics WHERE run_id = ? AND name = 'loss/hint' ORDER BY step`).all(r.run).map((x) => (x as { value: number }).value);
    const totals = db.prepare(`SELECT m.value AS total, j.value AS js, h.value AS hint FROM metrics m JOIN metrics j ON j.run_id = m.run_id AND j.step = m.step AND j.name = 'loss/js' JOIN metrics h ON h.run_id = m.run_id AND h.step = m.step AND h.name = 'loss/hint' WHERE m.run_id = ? AND m.name = 'loss'`).all(r.run) as { total: number; js: number; hint: number }[];
    const config = JSON.parse((db.prepare(`SELECT config_json FROM runs WHERE id = ?`).get(r.run) as { config_json: string }).config_json) as { teacherCache: string; loss: { hint: unknown } };
    // Continue for one more epoch, as after a crash.
    db.prepare(`UPDATE runs SET status = 'failed', config_json = json_set(config_json, '$.epochs', 2) WHERE id = ?`).run(r.run);
    db.close();
    expect(config.loss.hint).toEqual({ weight: 2 });
    expect(hint.length).toBe(3);
    // Relative squared errors, falling as the student's maps move toward the teacher's.
    expect(hint.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    expect(hint.at(-1)!).toBeLessThan(hint[0]!);
    // The total is js + 2·hint (the --hint-weight).
    for (const t of totals) expect(t.total).toBeCloseTo(t.js + 2 * t.hint, 4);
    const again = cli(['run', '--resume', String(r.run)]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.lines.at(-1)!.epochs).toBe(2);

    // The refnet teacher has none of the student's layers: refused with the layer named, no step taken.
    const bad = cli(['run', '--name', 'hint-bad', '--teacher', 'tiny', ...flags, '--epochs', '1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/hints: teacher "tiny" has no layer "conv_pw_1_relu"/);
  });
});
