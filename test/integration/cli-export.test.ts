// `distill export` through the real CLI on a tiny synthetic dataset: the export folder contract
// (model.tflite, labels.txt, metadata.json), the LiteRT check's result fields, float32 matching the
// TF.js student, int8 calibrated from the run's images, flag errors, and `--all`: every format ×
// quantization measured by its runtime and stored for the Export page, next to the run's exports.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticDataset } from '../../src/main/demo/synthetic-dataset.js';
import { distillCli } from '../helpers/cli.js';

let work: string;
let home: string;

const { cli, result } = distillCli(() => home, 300_000);

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-tflite-'));
  home = path.join(work, 'home');
  const data = await makeSyntheticDataset({ dir: path.join(work, 'data'), labeledPerClass: 12, unlabeled: 8, valPerClass: 10, size: 48, seed: 5 });
  result(['dataset', 'add', 'shapes', '--labeled', data.labeled, '--unlabeled', data.unlabeled, '--val', data.val]);
  result(['run', '--name', 'r1', '--method', 'ce', '--dataset', 'shapes', '--arch', 'refnet', '--size', '32', '--batch', '8', '--epochs', '1', '--seed', '3']);
}, 240_000);

describe('distill export --format tflite', () => {
  it('writes the export folder and checks it in LiteRT on the val images', () => {
    const out = path.join(work, 'exp-f32');
    const r = result(['export', 'r1', '--format', 'tflite', '--out', out]);
    expect(fs.readdirSync(out).sort()).toEqual(['labels.txt', 'metadata.json', 'model.tflite']);
    expect(fs.readFileSync(path.join(out, 'labels.txt'), 'utf8')).toBe('circle\nsquare\n');
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({ format: 'tflite', quantize: 'none', inputSize: 32, layout: 'NHWC', range: [0, 255], classes: ['circle', 'square'], run: 'r1' });
    expect(r).toMatchObject({ format: 'tflite', quantize: 'none', n: 20, agreement: 1 });
    expect(r.maxAbsDiff as number).toBeLessThan(1e-4);
    expect(r.accuracy as number).toBeGreaterThanOrEqual(0);
    expect(r.msPerImage as number).toBeGreaterThan(0);
    expect(r.bytes).toBe((r.files as string[]).reduce((n, f) => n + fs.statSync(f).size, 0));
    expect(r.warning).toBeNull();
  }, 120_000);

  it('int8: calibrated on the run\'s images, a quarter of the float file, still agreeing', () => {
    const f32 = fs.statSync(path.join(work, 'exp-f32', 'model.tflite')).size;
    const r = result(['export', 'r1', '--format', 'tflite', '--quantize', 'int8', '--out', path.join(work, 'exp-int8')]);
    expect(r.quantize).toBe('int8');
    expect(fs.statSync(path.join(work, 'exp-int8', 'model.tflite')).size).toBeLessThan(f32 * 0.35);
    expect(r.maxAbsDiff as number).toBeGreaterThan(0);
    // A barely trained refnet has small margins; agreement is reported, and flagged when low.
    if ((r.agreement as number) < 0.98) expect(r.warning).toMatch(/agrees with the float student/);
    else expect(r.warning).toBeNull();
  }, 120_000);

  it('refuses a quantization of another format and leaves no folder', () => {
    const bad = cli(['export', 'r1', '--format', 'tflite', '--quantize', 'uint8', '--out', path.join(work, 'x')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^distill: --quantize uint8 does not apply to --format tflite/);
    expect(fs.existsSync(path.join(work, 'x'))).toBe(false);
  });

  it('--all measures every format × quantization by its runtime, stores each, and keeps no scratch folder', () => {
    const before = new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('distill-export-check-')));
    const r = result(['export', 'r1', '--all']) as { checks: Record<string, unknown>[]; failures: string[] };
    expect(r.failures).toEqual([]);
    expect(r.checks.map((c) => `${c.format}/${c.quantize}`).sort()).toEqual(
      ['onnx/float16', 'onnx/int8', 'onnx/none', 'tfjs/float16', 'tfjs/int8', 'tfjs/none', 'tflite/float16', 'tflite/int8', 'tflite/none'],
    );
    const cell = (f: string, q: string) => r.checks.find((c) => c.format === f && c.quantize === q)!;
    for (const c of r.checks) {
      expect(c.n).toBe(20);
      expect(c.bytes as number).toBeGreaterThan(0);
      expect(c.msPerImage as number).toBeGreaterThan(0);
    }
    // float32 files are the student; float16 halves the weights, int8 quarters them.
    for (const f of ['onnx', 'tflite', 'tfjs']) {
      expect(cell(f, 'none').agreement).toBe(1);
      expect(cell(f, 'none').maxAbsDiff as number).toBeLessThan(1e-4);
      expect(cell(f, 'float16').bytes as number).toBeLessThan((cell(f, 'none').bytes as number) * 0.6);
      expect(cell(f, 'int8').bytes as number).toBeLessThan((cell(f, 'none').bytes as number) * 0.4);
    }
    // The same tflite float32 file as the single export above measures the same.
    expect(cell('tflite', 'none').bytes).toBe(fs.statSync(path.join(work, 'exp-f32', 'model.tflite')).size + fs.statSync(path.join(work, 'exp-f32', 'labels.txt')).size + fs.statSync(path.join(work, 'exp-f32', 'metadata.json')).size);
    const after = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('distill-export-check-') && !before.has(f));
    expect(after).toEqual([]);

    const db = new Database(path.join(home, 'distill.db'), { readonly: true });
    const rows = db.prepare(`SELECT kind, format, quantize, dir, n FROM exports ORDER BY id`).all() as { kind: string; format: string; quantize: string; dir: string | null; n: number }[];
    db.close();
    expect(rows.filter((x) => x.kind === 'export').map((x) => [x.format, x.quantize, x.dir])).toEqual([
      ['tflite', 'none', path.join(work, 'exp-f32')],
      ['tflite', 'int8', path.join(work, 'exp-int8')],
    ]);
    expect(rows.filter((x) => x.kind === 'check')).toHaveLength(9);
    expect(rows.filter((x) => x.kind === 'check').every((x) => x.dir === null && x.n === 20)).toBe(true);
  }, 300_000);
});
