// Every custom kernel, in real training steps at odd sizes, batch sizes and thread splits, keeps
// to its output: after each kernel call every live region's allocator header and footer must be
// intact (heap-check.ts). And the checker itself notices a write one float past a tensor's end.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { createModel, type ModelSpec } from '../../src/main/engine/models/index.js';
import { predictFolded } from '../../src/main/engine/models/inference-plan.js';
import { fastAdam } from '../../src/main/engine/wasm-kernels/fast-adam.js';
import { HeapCorruption, installHeapChecker, type HeapChecker } from '../../src/main/engine/compat/heap-check.js';
import { asWasm, f32 } from '../../src/main/engine/wasm-kernels/util.js';

let checker: HeapChecker;

beforeAll(async () => {
  await initBackend({ force: 'wasm', threads: 2 });
  checker = installHeapChecker(asWasm(tf.backend()));
});
afterAll(() => checker.uninstall());

function trainAndPredict(spec: Omit<ModelSpec, 'classes' | 'seed'>, batch: number): void {
  const model = createModel({ ...spec, classes: 3, seed: 7 });
  const opt = fastAdam(1e-3);
  const x = tf.randomUniform([batch, spec.inputSize, spec.inputSize, 3], 0, 255, 'float32', 3);
  const target = tf.tidy(() => tf.softmax(tf.randomNormal([batch, 3], 0, 1, 'float32', 4)));
  try {
    for (let i = 0; i < 2; i++) {
      const loss = opt.minimize(
        () => tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(model.apply(x, { training: true }) as tf.Tensor)), 1))) as tf.Scalar,
        true,
      );
      expect(Number.isFinite(loss!.dataSync()[0])).toBe(true);
      loss!.dispose();
    }
    const y = predictFolded(model, x);
    expect(y.shape).toEqual([batch, 3]);
    y.dispose();
  } finally {
    tf.dispose([x, target]);
    opt.dispose();
    model.dispose();
  }
}

/** Heap regions the engine does not know about: kernel scratch that outlived its call. */
function untracked(): number {
  return checker.live - tf.memory().numDataBuffers;
}

describe('custom wasm kernels free their scratch', () => {
  // Each leaked scratch region is invisible to tf.memory(): a MobileNetV2 step leaked ~4 MB this
  // way, until the 4 GiB heap was full and a long run hung (see compat/wasm-heap-guard.ts).
  it('a training step with BatchNorm and the fused Adam leaves no raw region behind', () => {
    trainAndPredict({ arch: 'mobilenet_v2', width: 0.35, inputSize: 32 }, 2); // warm: plans, pools
    const before = untracked();
    trainAndPredict({ arch: 'mobilenet_v2', width: 0.35, inputSize: 32 }, 4);
    trainAndPredict({ arch: 'refnet', inputSize: 32 }, 3);
    expect(untracked()).toBe(before);
  });
});

describe('custom wasm kernels keep to their outputs', () => {
  it('notices a write one float past a tensor', () => {
    const backend = asWasm(tf.backend());
    const t = tf.zeros([6]); // 24 bytes: the allocator's footer follows right after
    const info = { dataId: t.dataId, shape: [7], dtype: 'float32' as const };
    const view = f32(backend, info);
    const bits = new Uint32Array(view.buffer, view.byteOffset, 7);
    const footer = bits[6]!;
    const before = checker.checks;
    view[6] = 1; // one float too far
    expect(() => checker.check('the deliberate overflow')).toThrow(HeapCorruption);
    bits[6] = footer;
    checker.check('after the repair');
    expect(checker.checks).toBeGreaterThan(before);
    t.dispose();
  });

  it.each([
    { name: 'mobilenet_v2 ×0.35 @33, batch 5', spec: { arch: 'mobilenet_v2' as const, width: 0.35, inputSize: 33 }, batch: 5 },
    { name: 'mobilenet_v2 ×0.5 @40, batch 1', spec: { arch: 'mobilenet_v2' as const, width: 0.5, inputSize: 40 }, batch: 1 },
    { name: 'refnet @45, batch 7', spec: { arch: 'refnet' as const, inputSize: 45 }, batch: 7 },
    { name: 'refnet @32, batch 32', spec: { arch: 'refnet' as const, inputSize: 32 }, batch: 32 },
    { name: 'resnet18 @33, batch 2', spec: { arch: 'resnet18' as const, inputSize: 33 }, batch: 2 },
  ])('$name', ({ spec, batch }) => {
    const before = checker.checks;
    trainAndPredict(spec, batch);
    // Thousands of kernel calls were each followed by a full check of the heap.
    expect(checker.checks - before).toBeGreaterThan(200);
  });
});
