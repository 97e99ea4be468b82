// A teacher that expects pixels in [-1, 1] is scored by `distill eval` exactly as plain tfjs scores it
// on the same pixels (eval loads teachers the way mining and soft labels do), and `teacher import …
// --input-range -1-1` parses in the documented form (a value starting with '-' is not a flag).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { saveModelDir } from '../../src/main/engine/model-io.js';
import { evaluateFolderItems, listClassFolder } from '../../src/main/engine/evaluate.js';
import { writeTeacherInfo } from '../../src/main/engine/teacher-model.js';
import { evalViews } from '../../src/main/engine/train/batches.js';
import { joinDashValues, parseFlags } from '../../src/main/cli/command.js';
import { main } from '../../src/main/cli/main.js';
import { Rng } from '../../src/main/engine/data/index.js';

const S = 8;
const CLASSES = ['bright', 'dark'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-range-'));
const modelDir = path.join(tmp, 'model');
const valDir = path.join(tmp, 'val');

/**
 * GAP → dense: logit(bright) = mean red − 0.2, logit(dark) = 0.2 − mean red. In [-1,1] units the
 * boundary sits at red ≈ 153; fed [0,255] pixels by mistake, every image would look bright.
 */
async function writeRangeModel(): Promise<void> {
  const input = tf.input({ shape: [S, S, 3] });
  const pooled = tf.layers.globalAveragePooling2d({}).apply(input) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: 2 });
  const model = tf.model({ inputs: input, outputs: dense.apply(pooled) as tf.SymbolicTensor });
  dense.setWeights([tf.tensor2d([1, -1, 0, 0, 0, 0], [3, 2]), tf.tensor1d([-0.2, 0.2])]);
  await saveModelDir(model, modelDir);
  model.dispose();
  writeTeacherInfo(modelDir, { format: 'layers-model', inputRange: '-1-1' });
}

/** Reds spread over 60…250 so some images fall on each side of the boundary, some near it. */
async function writeImages(): Promise<void> {
  const rng = new Rng(4);
  for (const cls of CLASSES) {
    fs.mkdirSync(path.join(valDir, cls), { recursive: true });
    for (let i = 0; i < 10; i++) {
      const red = cls === 'bright' ? rng.uniform(120, 250) : rng.uniform(60, 190);
      const px = Buffer.alloc(12 * 12 * 3);
      for (let p = 0; p < 144; p++) px.set([Math.round(red + rng.uniform(-20, 20)), 100, 100], p * 3);
      await sharp(px, { raw: { width: 12, height: 12, channels: 3 } }).png().toFile(path.join(valDir, cls, `${i}.png`));
    }
  }
}

beforeAll(async () => {
  await initBackend();
  await writeRangeModel();
  await writeImages();
}, 60_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Confusion matrix of the plain tfjs model on the eval pipeline's own pixels, scaled by hand. */
async function plainConfusion(range: 'x/127.5-1' | 'raw'): Promise<number[][]> {
  const items = await listClassFolder(valDir);
  const mj = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  const bin = fs.readFileSync(path.join(modelDir, 'weights.bin'));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest[0]!.weights, weightData: new Uint8Array(bin).buffer }),
  );
  const m = CLASSES.map(() => CLASSES.map(() => 0));
  for await (const b of evalViews(items, S, { batchSize: 64 })) {
    const pred = tf.tidy(() => {
      const x = tf.tensor4d(b.x, [b.indices.length, S, S, 3]);
      return tf.argMax(model.predict(range === 'raw' ? x : tf.sub(tf.div(x, 127.5), 1)) as tf.Tensor, 1).dataSync();
    });
    b.indices.forEach((i, r) => m[CLASSES.indexOf(items[i]!.label)]![pred[r]!]!++);
  }
  model.dispose();
  return m;
}

describe('teacher input range', () => {
  it('eval of a -1..1 teacher folder equals plain tfjs on the same images', async () => {
    const want = await plainConfusion('x/127.5-1');
    const raw = await plainConfusion('raw');
    expect(raw).not.toEqual(want); // the range matters for this model and these images
    const r = await evaluateFolderItems({ dir: modelDir, inputSize: S, classes: CLASSES }, await listClassFolder(valDir));
    expect(r.confusion.matrix).toEqual(want);
    expect(r.accuracy).toBe((want[0]![0]! + want[1]![1]!) / 20);
  }, 60_000);

  it('distill teacher import --input-range -1-1, then distill eval, through the CLI entry', async () => {
    const home = path.join(tmp, 'home');
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      lines.push(String(s));
      return true;
    });
    try {
      const imp = await main(['teacher', 'import', 'ranged', path.join(modelDir, 'model.json'), '--classes', 'bright,dark', '--input-range', '-1-1', '--home', home, '--json']);
      expect(imp).toBe(0);
      const ev = await main(['eval', 'ranged', '--data', valDir, '--home', home, '--json']);
      expect(ev).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const info = JSON.parse(fs.readFileSync(path.join(home, 'teachers', 'ranged', 'distill-teacher.json'), 'utf8')) as { inputRange: string };
    expect(info.inputRange).toBe('-1-1');
    const result = JSON.parse(lines.filter((l) => l.startsWith('{')).at(-1)!) as { confusion: { matrix: number[][] } };
    expect(result.confusion.matrix).toEqual(await plainConfusion('x/127.5-1'));
  }, 120_000);
});

describe('flag values that start with a dash', () => {
  const Flags = z.object({ home: z.string().optional(), json: z.boolean().optional(), 'input-range': z.string().optional(), lr: z.string().optional() });
  const opts = { 'input-range': { type: 'string' }, lr: { type: 'string' } } as const;

  it('takes -1-1 and negative numbers as the value of a string flag', () => {
    expect(parseFlags(['--input-range', '-1-1', 'x'], opts, Flags)).toEqual({ values: { 'input-range': '-1-1' }, positionals: ['x'] });
    expect(parseFlags(['--lr', '-0.5', '--json'], opts, Flags).values).toEqual({ lr: '-0.5', json: true });
    expect(parseFlags(['--input-range=-1-1'], opts, Flags).values).toEqual({ 'input-range': '-1-1' });
  });

  it('still refuses a flag given where a value is due, and leaves boolean flags alone', () => {
    expect(() => parseFlags(['--input-range', '--json'], opts, Flags)).toThrow(/ambiguous|argument/);
    expect(joinDashValues(['--json', '-1'], { json: { type: 'boolean' } })).toEqual(['--json', '-1']);
  });
});
