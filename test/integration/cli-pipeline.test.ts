// The headless job through the real `distill` CLI, as a user runs it: dataset add → teacher train →
// mine → SSLD without labels → eval → export → runs; then label scrambling (an SSLD run with
// useLabels=false must not change) and a real kill -9 followed by --resume.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticDataset, type SyntheticLayout } from '../../src/main/demo/synthetic-dataset.js';
import { distillCli } from '../helpers/cli.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'distill.js');
let work: string;
let home: string;
let data: SyntheticLayout;

// The CLI's own temporary folder, to see that it leaves nothing behind there.
let tmp: string;
const { cli, result } = distillCli(() => home, undefined, () => ({ TMPDIR: tmp }));

const RUN_FLAGS = ['--dataset', 'shapes', '--arch', 'mobilenet_v2', '--width', '0.35', '--size', '32', '--batch', '16', '--seed', '3'];

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-cli-'));
  home = path.join(work, 'home');
  tmp = path.join(work, 'tmp');
  fs.mkdirSync(tmp);
  data = await makeSyntheticDataset({ dir: path.join(work, 'data'), labeledPerClass: 24, unlabeled: 64, valPerClass: 16, size: 64, seed: 5 });
  // A corrupt file in the pool: skipped and reported, never fatal.
  fs.writeFileSync(path.join(data.unlabeled, 'broken.jpg'), Buffer.from('not a jpeg at all'));
}, 120_000);

describe('distill CLI pipeline', () => {
  it('dataset add reports counts and skipped files with reasons', () => {
    const r = result(['dataset', 'add', 'shapes', '--labeled', data.labeled, '--unlabeled', data.unlabeled, '--val', data.val]);
    expect(r.labeled).toEqual({ circle: 24, square: 24 });
    expect(r.unlabeled).toBe(64);
    expect(r.val).toEqual({ circle: 16, square: 16 });
    const skipped = r.skipped as { file: string; reason: string }[];
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.file).toContain('broken.jpg');
    expect(skipped[0]!.reason.length).toBeGreaterThan(3);
  });

  it('teacher train → mine → SSLD without labels → eval → export', () => {
    const t = result(['teacher', 'train', 'tiny', '--dataset', 'shapes', '--arch', 'mobilenet_v2_035', '--size', '32', '--epochs', '4', '--batch', '16']);
    expect(typeof t.teacher).toBe('number');
    expect(t.valAccuracy).toBeGreaterThanOrEqual(0);

    const m = result(['mine', '--dataset', 'shapes', '--teacher', 'tiny', '--per-class', '20']);
    const perClass = m.perClass as Record<string, number>;
    expect(Object.keys(perClass).sort()).toEqual(['circle', 'square']);
    expect(m.selected).toBe(perClass.circle! + perClass.square!);
    for (const n of Object.values(perClass)) expect(n).toBeLessThanOrEqual(20);

    const r = result(['run', '--name', 'ssld-a', '--method', 'ssld', '--teacher', 'tiny', '--no-labels', '--epochs', '2', ...RUN_FLAGS]);
    expect(r.epochs).toBe(2);
    expect(r.backend).toMatch(/wasm|cpu|tensorflow/);
    expect(r.imgPerSec).toBeGreaterThan(0);

    const db = new Database(path.join(home, 'distill.db'), { readonly: true });
    const names = db.prepare(`SELECT DISTINCT name FROM metrics WHERE run_id = ? ORDER BY name`).all(r.run).map((x) => (x as { name: string }).name);
    db.close();
    expect(names).toEqual(expect.arrayContaining(['loss/js', 'lr', 'img_per_sec', 'val/accuracy', 'val/js_teacher', 'val/kl_teacher']));
    expect(names).not.toContain('loss/ce'); // no label may reach an SSLD run with useLabels=false

    const e = result(['eval', 'ssld-a', '--data', data.val]);
    expect(e.n).toBe(32);
    expect((e.confusion as { matrix: number[][] }).matrix.flat().reduce((a, b) => a + b, 0)).toBe(32);

    const out = path.join(work, 'export');
    const x = result(['export', 'ssld-a', '--format', 'tfjs', '--out', out]);
    expect(x.maxAbsDiff).toBeLessThan(1e-4);
    expect(fs.existsSync(path.join(out, 'model.json'))).toBe(true);
    const q = result(['export', 'ssld-a', '--format', 'tfjs', '--quantize', 'uint8', '--out', path.join(work, 'export-u8')]);
    expect(q.bytes as number).toBeLessThan((x.bytes as number) / 2);
    expect(q.maxAbsDiff).toBeLessThan(0.5);

    // ONNX: written, run by onnxruntime over the val split, and evaluable as a folder.
    const onnxDir = path.join(work, 'export-onnx');
    const o = result(['export', 'ssld-a', '--format', 'onnx', '--out', onnxDir]);
    expect(o.n).toBe(32);
    expect(o.agreement).toBe(1);
    expect(o.maxAbsDiff).toBeLessThan(1e-4);
    expect(o.warning).toBeNull();
    expect(fs.readFileSync(path.join(onnxDir, 'labels.txt'), 'utf8')).toBe('circle\nsquare\n');
    const oe = result(['eval', onnxDir, '--data', data.val]);
    expect(oe.n).toBe(32);
    expect(oe.accuracy).toBe(o.accuracy);

    const bad = cli(['export', 'ssld-a', '--format', 'coreml', '--out', path.join(work, 'x')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^distill: .*format/);

    // eval and export read the run's student from a temporary folder, removed when they end.
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('distill-model-'))).toEqual([]);

    const ls = cli(['runs', 'ls']);
    expect(ls.lines.filter((l) => l.type === 'run').map((l) => l.name)).toEqual(expect.arrayContaining(['ssld-a']));
  }, 900_000);

  it('an SSLD run with useLabels=false is identical when the labels are scrambled', () => {
    const db = new Database(path.join(home, 'distill.db'));
    const readLoss = (run: string) =>
      (db
        .prepare(`SELECT m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.name = ? AND m.name = 'loss/js' ORDER BY m.step`)
        .all(run) as { value: number }[]).map((x) => x.value);
    const before = readLoss('ssld-a');
    // Scramble: swap every labeled image's class in the index.
    db.prepare(`UPDATE images SET label = CASE label WHEN 'circle' THEN 'square' ELSE 'circle' END WHERE role = 'labeled'`).run();
    const r = result(['run', '--name', 'ssld-b', '--method', 'ssld', '--teacher', 'tiny', '--no-labels', '--epochs', '2', ...RUN_FLAGS]);
    expect(r.epochs).toBe(2);
    const after = readLoss('ssld-b');
    db.prepare(`UPDATE images SET label = CASE label WHEN 'circle' THEN 'square' ELSE 'circle' END WHERE role = 'labeled'`).run();
    db.close();
    expect(after.length).toBe(before.length);
    after.forEach((v, i) => expect(v).toBeCloseTo(before[i]!, 5));
  }, 600_000);

  it('a run killed with SIGKILL resumes from its last checkpoint, no epoch lost or counted twice', async () => {
    const EPOCHS = 6;
    const child = spawn(process.execPath, [BIN, 'run', '--name', 'killed', '--method', 'ce', '--epochs', String(EPOCHS), ...RUN_FLAGS, '--json', '--home', home], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let runId = 0;
    let buf = '';
    let sawEpoch = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no checkpoint within 5 minutes')), 300_000);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        for (const line of buf.split('\n').slice(0, -1)) {
          if (!line.startsWith('{')) continue;
          const o = JSON.parse(line) as { type?: string; run?: number };
          if (o.type === 'run') runId = o.run!;
          if (o.type === 'epoch') sawEpoch = true;
          // Kill at the first step line after a checkpoint: mid-epoch on any machine speed (progress lines
          // are throttled, so a fixed step window can be skipped over by a fast machine).
          if (o.type === 'progress' && sawEpoch) {
            child.kill('SIGKILL');
            clearTimeout(timer);
            resolve();
          }
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the run ended by itself (exit ${code}) before it could be killed: ${stderr}`));
      });
    });
    await exited;
    expect(runId).toBeGreaterThan(0);
    let db = new Database(path.join(home, 'distill.db'), { readonly: true });
    const status = (db.prepare('SELECT status, epochs_done FROM runs WHERE id = ?').get(runId) as { status: string; epochs_done: number });
    db.close();
    expect(status.status).toBe('running'); // nobody could mark it: the process died
    expect(status.epochs_done).toBeGreaterThanOrEqual(1);
    expect(status.epochs_done).toBeLessThan(EPOCHS);

    const r = result(['run', '--resume', String(runId)]);
    expect(r.epochs).toBe(EPOCHS);
    db = new Database(path.join(home, 'distill.db'), { readonly: true });
    const epochRows = db.prepare(`SELECT epoch, COUNT(*) n FROM metrics WHERE run_id = ? AND name = 'val/accuracy' GROUP BY epoch ORDER BY epoch`).all(runId) as { epoch: number; n: number }[];
    const stepRows = db.prepare(`SELECT step, COUNT(*) n FROM metrics WHERE run_id = ? AND name = 'loss/ce' GROUP BY step ORDER BY step`).all(runId) as { step: number; n: number }[];
    db.close();
    expect(epochRows).toEqual(Array.from({ length: EPOCHS }, (_, i) => ({ epoch: i + 1, n: 1 })));
    const steps = stepRows.map((s) => s.step);
    expect(stepRows.every((s) => s.n === 1)).toBe(true);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    expect(steps.length % EPOCHS).toBe(0);
  }, 900_000);
});
