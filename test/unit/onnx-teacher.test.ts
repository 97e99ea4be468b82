// ONNX teachers run by onnxruntime: graphs written here (NCHW and NHWC inputs, Gemm or MatMul+Add,
// logits or softmax heads, dynamic or fixed batch) give the logits a float64 reference computes from the
// same weights and preprocessed pixels; a TF.js version of the same network gives the same logits on
// the same pixels (preprocessing parity); bad files are refused with messages naming what was found.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTeacherViews } from '../../src/main/engine/train/teacher-cache.js';
import type { TrainItem } from '../../src/main/engine/train/train-types.js';
import { Store } from '../../src/main/store/index.js';
import { importTeacher } from '../../src/main/jobs/teacher-import.js';
import { loadTeacher } from '../../src/main/engine/teacher-model.js';
import { predictorLogits } from '../../src/main/engine/predict.js';
import { saveModelDir } from '../../src/main/engine/model-io.js';
import type { Preprocessing } from '../../src/main/engine/teachers/preprocessing.js';
import { channelsModelOnnx, tinyClassifierOnnx, tinyReference, tinyWeights, vectorModelOnnx, type TinyWeights } from '../helpers/onnx-graphs.js';

const S = 8;
const CLASSES = ['cat', 'dog', 'fox'];
const W = tinyWeights({ filters: 4, classes: 3, seed: 11 });
const PRE: Preprocessing = { range: '0-1', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
let tmp: string;
let store: Store;

function pixels(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n * S * S * 3 }, () => {
    s = (Math.imul(s, 22695477) + 1) >>> 0;
    return Math.floor((s / 2 ** 32) * 256);
  });
}

/** What the model sees: range then mean/std, in float64, NHWC. */
function preprocessed(x: Float32Array, p: Preprocessing): number[] {
  return Array.from(x, (v, i) => {
    const c = i % 3;
    const r = p.range === '0-1' ? v / 255 : p.range === '-1-1' ? v / 127.5 - 1 : v;
    return (r - (p.mean?.[c] ?? 0)) / (p.std?.[c] ?? 1);
  });
}

function writeOnnx(name: string, bytes: Uint8Array): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, bytes);
  return f;
}

async function logitsOf(teacherName: string, x: Float32Array, n: number, classes = CLASSES): Promise<number[][]> {
  const t = await loadTeacher(store.teachers.requireTeacher(teacherName), classes);
  const out = await predictorLogits(t, x, n);
  const rows = out.arraySync();
  out.dispose();
  return rows;
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, r) => row.forEach((v, c) => (m = Math.max(m, Math.abs(v - b[r]![c]!)))));
  return m;
}

/** The tiny network as a TF.js layers model with the same weights (conv 'same' + relu, GAP, dense). */
function tfjsTwin(w: TinyWeights): tf.LayersModel {
  const K = w.kernel;
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [S, S, 3], filters: w.filters, kernelSize: K, padding: 'same', activation: 'relu' }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: w.classes }),
    ],
  });
  // OIHW → HWIO for the conv kernel.
  const hwio = new Float32Array(K * K * 3 * w.filters);
  for (let o = 0; o < w.filters; o++) for (let i = 0; i < 3; i++) for (let h = 0; h < K; h++) for (let x = 0; x < K; x++) {
    hwio[((h * K + x) * 3 + i) * w.filters + o] = w.conv[((o * 3 + i) * K + h) * K + x]!;
  }
  model.setWeights([
    tf.tensor4d(hwio, [K, K, 3, w.filters]),
    tf.tensor1d(w.convBias),
    tf.tensor2d(w.dense, [w.filters, w.classes]),
    tf.tensor1d(w.denseBias),
  ]);
  return model;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-onnx-teacher-'));
  store = Store.open(path.join(tmp, 'home'));
});

afterAll(() => {
  store?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('ONNX teachers', () => {
  const variants = [
    { name: 'nchw-gemm', layout: 'NCHW', dense: 'gemm', head: 'logits' },
    { name: 'nhwc-matmul', layout: 'NHWC', dense: 'matmul', head: 'logits' },
    { name: 'nchw-softmax', layout: 'NCHW', dense: 'matmul', head: 'softmax' },
    { name: 'nhwc-softmax', layout: 'NHWC', dense: 'gemm', head: 'softmax' },
  ] as const;

  for (const v of variants) {
    it(`${v.name}: logits equal the float64 reference (up to a row constant for a softmax head)`, async () => {
      const file = writeOnnx(`${v.name}.onnx`, tinyClassifierOnnx({ size: S, weights: W, layout: v.layout, dense: v.dense, head: v.head }));
      const rec = await importTeacher(store, { name: v.name, path: file, classes: CLASSES, preprocessing: PRE });
      expect(rec.inputSize).toBe(S);
      expect(rec.arch).toBe(`imported-onnx-${v.layout.toLowerCase()}`);
      const n = 5;
      const x = pixels(n, 3);
      const ref = tinyReference(preprocessed(x, PRE), n, S, W).logits;
      // Not vacuous: the logits differ between images and classes.
      expect(new Set(ref.flat().map((z) => z.toFixed(3))).size).toBeGreaterThan(n);
      const got = await logitsOf(v.name, x, n);
      const expected = v.head === 'softmax' ? ref.map((row) => row.map((z) => z - Math.log(row.reduce((s, q) => s + Math.exp(q), 0)))) : ref;
      expect(maxAbsDiff(got, expected)).toBeLessThan(1e-4);
    });
  }

  it("reorders to the dataset's class order", async () => {
    const file = writeOnnx('reorder.onnx', tinyClassifierOnnx({ size: S, weights: W, layout: 'NCHW' }));
    await importTeacher(store, { name: 'reorder', path: file, classes: CLASSES, preprocessing: PRE });
    const x = pixels(3, 9);
    const ref = tinyReference(preprocessed(x, PRE), 3, S, W).logits;
    const got = await logitsOf('reorder', x, 3, ['fox', 'cat', 'dog']);
    expect(maxAbsDiff(got, ref.map((row) => [row[2]!, row[0]!, row[1]!]))).toBeLessThan(1e-4);
  });

  it('a graph with a fixed batch size of 1 runs a batch of 4 one image at a time', async () => {
    const file = writeOnnx('fixed.onnx', tinyClassifierOnnx({ size: S, weights: W, layout: 'NCHW', batch: 1 }));
    await importTeacher(store, { name: 'fixed', path: file, classes: CLASSES, preprocessing: PRE });
    const x = pixels(4, 5);
    expect(maxAbsDiff(await logitsOf('fixed', x, 4), tinyReference(preprocessed(x, PRE), 4, S, W).logits)).toBeLessThan(1e-4);
  });

  for (const layout of ['NCHW', 'NHWC'] as const) {
    for (const pre of [{ range: '-1-1' }, { range: '0-255', mean: [120, 110, 100], std: [60, 50, 70] }, PRE] as Preprocessing[]) {
      it(`agrees with the TF.js version of the same network (${layout}, ${pre.range}${pre.mean ? ' + mean/std' : ''}) within 1e-4`, async () => {
        const tag = `${layout}-${pre.range}-${pre.mean ? 'ms' : 'plain'}`;
        const file = writeOnnx(`twin-${tag}.onnx`, tinyClassifierOnnx({ size: S, weights: W, layout }));
        await importTeacher(store, { name: `onnx-${tag}`, path: file, classes: CLASSES, preprocessing: pre });
        const model = tfjsTwin(W);
        const dir = path.join(tmp, `tfjs-${tag}`);
        await saveModelDir(model, dir);
        model.dispose();
        await importTeacher(store, { name: `tfjs-${tag}`, path: path.join(dir, 'model.json'), classes: CLASSES, preprocessing: pre });
        const x = pixels(6, 21);
        const a = await logitsOf(`onnx-${tag}`, x, 6);
        const b = await logitsOf(`tfjs-${tag}`, x, 6);
        expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
        // Both follow the preprocessing: without it the logits would differ well beyond the tolerance.
        expect(maxAbsDiff(a, tinyReference(Array.from(x), 6, S, W).logits)).toBeGreaterThan(1e-2);
      });
    }
  }
});

describe('an ONNX teacher in the soft-label views cache', () => {
  it('stores the same soft labels as the TF.js version of the network over the same augmented views', async () => {
    const items: TrainItem[] = [];
    for (let i = 0; i < 5; i++) {
      const file = path.join(tmp, `view-${i}.png`);
      await sharp(Buffer.from(pixels(1, 40 + i).map((v) => v)), { raw: { width: S, height: S, channels: 3 } }).png().toFile(file);
      items.push({ key: `view-${i}`, path: file, label: null });
    }
    const augment = { flip: true, cropScaleMin: 0.5 };
    const views = async (name: string) =>
      ensureTeacherViews({
        teacher: await loadTeacher(store.teachers.requireTeacher(name), CLASSES),
        teacherId: name, classes: CLASSES, items, views: 2, seed: 3, augment, dir: null, batchSize: 2, renderer: null,
      });
    // The same weights and preprocessing (0-1 + mean/std), one ONNX, one TF.js.
    await importTeacher(store, { name: 'views-onnx', path: writeOnnx('views.onnx', tinyClassifierOnnx({ size: S, weights: W, layout: 'NHWC' })), classes: CLASSES, preprocessing: PRE });
    const model = tfjsTwin(W);
    await saveModelDir(model, path.join(tmp, 'views-tfjs'));
    model.dispose();
    await importTeacher(store, { name: 'views-tfjs', path: path.join(tmp, 'views-tfjs', 'model.json'), classes: CLASSES, preprocessing: PRE });
    const a = await views('views-onnx');
    const b = await views('views-tfjs');
    expect(a.missing).toEqual([]);
    let diff = 0;
    let spread = 0;
    for (let v = 0; v < 2; v++) {
      const ra = a.rows([0, 1, 2, 3, 4], v)!;
      const rb = b.rows([0, 1, 2, 3, 4], v)!;
      diff = Math.max(diff, maxAbsDiff([Array.from(ra)], [Array.from(rb)]));
      spread = Math.max(spread, ...Array.from(ra, (p) => Math.abs(p - 1 / 3)));
    }
    expect(diff).toBeLessThan(1e-5);
    expect(spread).toBeGreaterThan(1e-3); // not uniform: the comparison says something
  });
});

describe('ONNX import refusals', () => {
  const refused = async (name: string, file: string, classes = CLASSES): Promise<string> => {
    const err = await importTeacher(store, { name, path: file, classes, preprocessing: { range: '0-255' } }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    // Nothing is registered and no folder is left behind.
    expect(store.teachers.getTeacher(name)).toBeNull();
    expect(fs.existsSync(path.join(store.home, 'teachers', name))).toBe(false);
    return err!.message;
  };

  it('a model whose output size differs from the class count, naming file, output and input shapes', async () => {
    const file = writeOnnx('two-outputs.onnx', tinyClassifierOnnx({ size: S, weights: tinyWeights({ filters: 2, classes: 2 }), layout: 'NCHW' }));
    const msg = await refused('wrong-classes', file);
    expect(msg).toContain(file);
    expect(msg).toContain('"logits"');
    expect(msg).toContain('[N, 2]');
    expect(msg).toContain('2 values per image');
    expect(msg).toContain('--classes names 3');
    expect(msg).toContain(`"pixels" has shape [N, 3, ${S}, ${S}]`);
  });

  it('a model whose input is a vector, not an image', async () => {
    const file = writeOnnx('vector.onnx', vectorModelOnnx(10, 3));
    const msg = await refused('vector', file);
    expect(msg).toContain(file);
    expect(msg).toContain('input "vec" has shape [N, 10]');
    expect(msg).toContain('not an image');
  });

  it('an image input without 3 channels', async () => {
    const file = writeOnnx('gray.onnx', channelsModelOnnx(1, S));
    const msg = await refused('gray', file);
    expect(msg).toContain(`input "img" has shape [N, 1, ${S}, ${S}]`);
    expect(msg).toContain('not an RGB image');
  });

  it('a file that is not ONNX', async () => {
    const file = path.join(tmp, 'notes.onnx');
    fs.writeFileSync(file, 'this is a text file, not a model\n');
    const msg = await refused('text', file);
    expect(msg).toContain(file);
    expect(msg).toContain('not an ONNX model');
  });

  it('a missing file', async () => {
    const file = path.join(tmp, 'absent.onnx');
    const msg = await refused('absent', file);
    expect(msg).toContain(file);
    expect(msg).toContain('ENOENT');
  });
});
