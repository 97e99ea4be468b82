// The feature tap reads the values feature methods need: by default the Dense head's input and the last
// spatial stage; a named layer instead (a spatial one averaged when read as features); refusals name
// the model, the layer and the problem.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/main/engine/models/index.js';
import { applyTap, tapModel, tapValues } from '../../src/main/engine/models/feature-tap.js';
import { checkFeatureSources, featureNeeds } from '../../src/main/engine/train/feature-needs.js';
import { RunConfig } from '../../src/shared/run-config.js';

let model: tf.LayersModel;
let x: tf.Tensor4D;
beforeAll(async () => {
  await tf.setBackend('cpu');
  model = createModel({ arch: 'refnet', inputSize: 32, classes: 2, seed: 1 });
  x = tf.randomUniform([2, 32, 32, 3], 0, 255, 'float32', 3) as tf.Tensor4D;
});

describe('feature taps', () => {

  it('defaults: pooled = the Dense head\'s input, map = the last global pooling\'s input', () => {
    const r = applyTap(tapModel(model, { pooled: true, map: true }, 'the student'), x, false);
    const pool = tf.model({ inputs: model.inputs, outputs: model.getLayer('pool').output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
    expect(r.pooled!.shape).toEqual([2, 256]);
    expect(tf.max(tf.abs(tf.sub(r.pooled!, pool))).dataSync()[0]).toBe(0);
    expect(r.map!.shape.length).toBe(4);
    // The map averaged over positions is the pooled vector.
    expect(tf.max(tf.abs(tf.sub(tf.mean(r.map!, [1, 2]), pool))).dataSync()[0]).toBeLessThan(1e-5);
    expect(tf.max(tf.abs(tf.sub(r.out, model.predict(x) as tf.Tensor))).dataSync()[0]).toBe(0);
  });

  it('a named spatial layer: as the map, and averaged over positions as features', () => {
    const named = tf.model({ inputs: model.inputs, outputs: model.getLayer('s2_pw2').output as tf.SymbolicTensor }).predict(x) as tf.Tensor4D;
    const r = applyTap(tapModel(model, { pooled: true, map: true, layer: 's2_pw2' }, 'the student'), x, false);
    expect(r.map!.shape).toEqual(named.shape);
    expect(tf.max(tf.abs(tf.sub(r.map!, named))).dataSync()[0]).toBe(0);
    expect(r.pooled!.shape).toEqual([2, named.shape[3]]);
    expect(tf.max(tf.abs(tf.sub(r.pooled!, tf.mean(named, [1, 2])))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('refuses a missing layer or a non-spatial layer for a map, naming them', () => {
    expect(() => tapValues(model, { pooled: true, map: false, layer: 'nope' }, 'teacher "t"')).toThrow(/teacher "t" has no layer "nope" \(its last layers: .*logits\)/);
    expect(() => tapValues(model, { pooled: false, map: true, layer: 'logits' }, 'the student')).toThrow(/layer "logits" gives a rank-2 output, not a spatial map/);
  });

  it('checkFeatureSources: a teacher without taps, a bad named layer, and UDML peers of different sizes are refused', async () => {
    const at = RunConfig.parse({ name: 'r', dataset: 'd', method: 'at', teacher: 't', student: { arch: 'refnet', inputSize: 32 }, epochs: 1 });
    await expect(checkFeatureSources('at', featureNeeds(at), { name: 't' }, [model])).rejects.toThrow(/method "at" reads the teacher's features; teacher "t" exposes none \(a TF.js graph-model teacher/);
    const teacher = { name: 't', tapInfo: (w: Parameters<typeof tapValues>[1]) => ({ featureDim: tapValues(model, w, 'teacher "t"').pooled?.shape[1] as number | null ?? null }) };
    await expect(checkFeatureSources('at', featureNeeds(at), teacher, [model], { teacher: 'missing' })).rejects.toThrow(/teacher "t" has no layer "missing"/);
    expect(await checkFeatureSources('rkd', featureNeeds({ ...at, method: 'rkd' }), teacher, [model], { student: 's3_pw2' })).toEqual({ studentDim: 256, teacherDim: 256 });
    const other = createModel({ arch: 'mobilenet_v2', width: 0.35, inputSize: 32, classes: 2, seed: 1 });
    const udml = RunConfig.parse({ name: 'r', dataset: 'd', method: 'udml', student: { arch: 'refnet', inputSize: 32 }, peers: [{ arch: 'mobilenet_v2', width: 0.35, inputSize: 32 }], epochs: 1 });
    await expect(checkFeatureSources('udml', featureNeeds(udml), null, [model, other])).rejects.toThrow(/differ in size \(256, 1280\)/);
    other.dispose();
  });

  it('the run config refuses feature layers for a method that reads none', () => {
    const r = RunConfig.safeParse({ name: 'r', dataset: 'd', method: 'kd', teacher: 't', student: { arch: 'refnet', inputSize: 32 }, epochs: 1, loss: { featureLayers: { teacher: 'x' } } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/method "kd" reads no features/);
  });
});
