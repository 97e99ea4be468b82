// Imported graph-model teachers: a softmax head's probabilities become log-probabilities, a logits head's
// output passes through unchanged, and which one it is is decided once (no extra read-back on later batches).
// The graph models are written by hand (channel means → MatMul [→ Softmax]) so the expected values can be
// computed here in plain JS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TeacherRecord } from '../../src/shared/domain.js';
import { loadTeacher } from '../../src/main/engine/teacher-model.js';
import type { TensorPredictor } from '../../src/main/engine/predict.js';
import type { Teacher } from '../../src/main/engine/train/train-types.js';

const S = 4;
const CLASSES = ['cat', 'dog', 'fox'];
// W[c][k]: weight from channel mean c to output k; some logits come out negative, none sum to 1.
const W = [
  [0.02, -0.01, 0.005],
  [-0.015, 0.03, 0.01],
  [0.01, 0.002, -0.02],
];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-teacher-model-'));

/** A TF.js graph model folder: x [-1,S,S,3] → mean over H,W → MatMul W → (Softmax if `softmax`). */
function writeGraphModel(dir: string, softmax: boolean): void {
  fs.mkdirSync(dir, { recursive: true });
  const f32 = { type: 'DT_FLOAT' };
  const node = [
    {
      name: 'x',
      op: 'Placeholder',
      attr: { dtype: f32, shape: { shape: { dim: [{ size: '-1' }, { size: String(S) }, { size: String(S) }, { size: '3' }] } } },
    },
    { name: 'axes', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '2' }] } } } } },
    { name: 'w', op: 'Const', attr: { dtype: f32, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '3' }] } } } } },
    { name: 'mean', op: 'Mean', input: ['x', 'axes'], attr: { T: f32, keep_dims: { b: false } } },
    { name: 'logits', op: 'MatMul', input: ['mean', 'w'], attr: { T: f32, transpose_a: { b: false }, transpose_b: { b: false } } },
    ...(softmax ? [{ name: 'probs', op: 'Softmax', input: ['logits'], attr: { T: f32 } }] : []),
  ];
  const weights = Buffer.concat([Buffer.from(new Int32Array([1, 2]).buffer), Buffer.from(new Float32Array(W.flat()).buffer)]);
  fs.writeFileSync(path.join(dir, 'weights.bin'), weights);
  fs.writeFileSync(
    path.join(dir, 'model.json'),
    JSON.stringify({
      format: 'graph-model',
      modelTopology: { node, versions: { producer: 1 } },
      weightsManifest: [
        {
          paths: ['weights.bin'],
          weights: [
            { name: 'axes', shape: [2], dtype: 'int32' },
            { name: 'w', shape: [3, 3], dtype: 'float32' },
          ],
        },
      ],
    }),
  );
}

function record(name: string, modelDir: string, classes = CLASSES): TeacherRecord {
  return { id: 1, name, kind: 'imported', arch: 'imported-graph-model', inputSize: S, classes, datasetId: null, valAccuracy: null, perClass: null, modelDir, createdAt: '' };
}

/** Images whose channel means differ per row, and the model's logits computed here. */
function batch(seed: number, n = 3): { x: Float32Array; logits: number[][] } {
  const x = new Float32Array(n * S * S * 3);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 37 + seed * 101) % 256) * ((i % 3) + 1) / 3;
  const logits: number[][] = [];
  for (let r = 0; r < n; r++) {
    const mean = [0, 0, 0];
    for (let p = 0; p < S * S; p++) for (let c = 0; c < 3; c++) mean[c]! += x[(r * S * S + p) * 3 + c]! / (S * S);
    logits.push([0, 1, 2].map((k) => mean.reduce((s, m, c) => s + m * W[c]![k]!, 0)));
  }
  return { x, logits };
}

/** TF.js teachers run on the tfjs backend (synchronous logits). */
function tensorTeacher(t: Teacher): TensorPredictor {
  if (!('logits' in t)) throw new Error(`teacher ${t.name} does not run on tfjs`);
  return t;
}

function run(teacher: TensorPredictor, x: Float32Array): number[][] {
  return tf.tidy(() => teacher.logits(tf.tensor4d(x, [x.length / (S * S * 3), S, S, 3])).arraySync());
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  writeGraphModel(path.join(tmp, 'logits'), false);
  writeGraphModel(path.join(tmp, 'softmax'), true);
});
afterEach(() => vi.restoreAllMocks());
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('graph-model teachers', () => {
  it('a logits head passes its output through unchanged', async () => {
    const t = tensorTeacher(await loadTeacher(record('l', path.join(tmp, 'logits')), CLASSES));
    const b = batch(1);
    // The test data is not vacuous: some logits are negative and the rows do not sum to 1.
    expect(b.logits.flat().some((v) => v < 0)).toBe(true);
    const out = run(t, b.x);
    out.forEach((row, r) => row.forEach((v, k) => expect(v).toBeCloseTo(b.logits[r]![k]!, 4)));
  });

  it('a softmax head gives log-probabilities (equal to the logits up to a per-row constant)', async () => {
    const t = tensorTeacher(await loadTeacher(record('s', path.join(tmp, 'softmax')), CLASSES));
    const b = batch(2);
    const out = run(t, b.x);
    out.forEach((row, r) => {
      const z = b.logits[r]!;
      const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
      row.forEach((v, k) => expect(v).toBeCloseTo(z[k]! - lse, 4));
    });
  });

  it("reorders to the dataset's class order", async () => {
    const t = tensorTeacher(await loadTeacher(record('r', path.join(tmp, 'logits')), ['fox', 'cat', 'dog']));
    const b = batch(3);
    const out = run(t, b.x);
    out.forEach((row, r) => expect(row.map((v) => Number(v.toFixed(4)))).toEqual([2, 0, 1].map((k) => Number(b.logits[r]![k]!.toFixed(4)))));
  });

  it('decides softmax-or-logits on the first batch only: later batches read nothing more back', async () => {
    for (const kind of ['logits', 'softmax'] as const) {
      const t = tensorTeacher(await loadTeacher(record(kind, path.join(tmp, kind)), CLASSES));
      // The graph executor reads some constants back itself (Mean's axes), so count the difference.
      const sync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
      const reads: number[] = [];
      for (let i = 0; i < 4; i++) {
        sync.mockClear();
        tf.tidy(() => t.logits(tf.tensor4d(batch(4 + i).x, [3, S, S, 3])));
        reads.push(sync.mock.calls.length);
      }
      sync.mockRestore();
      const later = reads[1]!;
      expect(reads).toEqual([later + 1, later, later, later]);
    }
  });
});
