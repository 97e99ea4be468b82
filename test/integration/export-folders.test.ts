// `distill export --format onnx|tflite|tfjs` and `distill eval` on the folders it writes, through the real
// CLI, on a model folder the test saves (no training) and a synthetic class-folder set.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticDataset, type SyntheticLayout } from '../../src/main/demo/synthetic-dataset.js';
import { createModel } from '../../src/main/engine/models/index.js';
import { saveModelDir } from '../../src/main/engine/model-io.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'distill.js');
let work: string;
let modelDir: string;
let data: SyntheticLayout;

function cli(args: string[]): { code: number; last: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--json', '--home', path.join(work, 'home')], { encoding: 'utf8', timeout: 300_000 });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
  return { code: r.status ?? -1, last: lines.length ? (JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>) : {}, stderr: r.stderr };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-export-'));
  data = await makeSyntheticDataset({ dir: path.join(work, 'data'), labeledPerClass: 2, unlabeled: 4, valPerClass: 10, size: 40, seed: 9 });
  const model = createModel({ arch: 'refnet', inputSize: 32, classes: 2, seed: 4 });
  modelDir = path.join(work, 'student');
  await saveModelDir(model, modelDir, { metadata: { classes: ['circle', 'square'], inputSize: 32 } });
  model.dispose();
}, 120_000);

const META_KEYS = ['classes', 'format', 'inputSize', 'layout', 'quantize', 'range', 'run', 'valAccuracy'];

describe('export folders', () => {
  it.each(['onnx', 'tflite', 'tfjs'] as const)('%s: export checks the file on --data, writes the folder contract, and eval runs the folder', (format) => {
    const out = path.join(work, `export-${format}`);
    const x = cli(['export', modelDir, '--format', format, '--out', out, '--data', data.val]);
    expect(x.code, x.stderr).toBe(0);
    expect(x.last.n).toBe(20);
    expect(x.last.agreement).toBe(1);
    expect(x.last.maxAbsDiff as number).toBeLessThan(1e-4);
    expect(x.last.msPerImage as number).toBeGreaterThan(0);
    expect(x.last.warning ?? null).toBeNull(); // the tflite result omits it when there is none

    const meta = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(meta).sort()).toEqual(META_KEYS);
    expect(meta).toMatchObject({ format, quantize: 'none', inputSize: 32, layout: 'NHWC', range: [0, 255], classes: ['circle', 'square'], run: 'student', valAccuracy: null });
    expect(fs.readFileSync(path.join(out, 'labels.txt'), 'utf8')).toBe('circle\nsquare\n');
    expect(fs.existsSync(path.join(out, { onnx: 'model.onnx', tflite: 'model.tflite', tfjs: 'model.json' }[format]))).toBe(true);

    const e = cli(['eval', out, '--data', data.val]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.last.format).toBe(format);
    expect(e.last.n).toBe(20);
    // The same file on the same images: the export's own check and eval count the same hits.
    expect(e.last.accuracy).toBe(x.last.accuracy);
    // And the float student, evaluated as a model path, agrees (agreement 1 above).
    const s = cli(['eval', modelDir, '--data', data.val]);
    expect(s.last.accuracy).toBe(x.last.accuracy);
  }, 300_000);

  it('eval names the file and the problem for a broken export folder', () => {
    const broken = path.join(work, 'broken');
    fs.cpSync(path.join(work, 'export-onnx'), broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'metadata.json'), JSON.stringify({ format: 'onnx', quantize: 'none', inputSize: 32, layout: 'NCHW', range: [0, 255], classes: ['circle', 'square'], run: null, valAccuracy: null }));
    const b = cli(['eval', broken, '--data', data.val]);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/^distill: .*broken\/metadata\.json: layout/m);

    const relabeled = path.join(work, 'relabeled');
    fs.cpSync(path.join(work, 'export-onnx'), relabeled, { recursive: true });
    fs.writeFileSync(path.join(relabeled, 'labels.txt'), 'square\ncircle\n');
    const r = cli(['eval', relabeled, '--data', data.val]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^distill: .*relabeled\/labels\.txt: its classes \(square, circle\) differ/m);
  }, 120_000);
});
