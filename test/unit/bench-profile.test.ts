// The step profile's arithmetic (FLOPs from kernel shapes) and its accounting on a real training step.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { gemmPeak, kernelFlops, profileTrainStep } from '../../src/main/engine/bench/profile.js';
import { relaxedSimd } from '../../src/main/engine/wasm-kernels/relaxed-simd.js';

beforeAll(async () => {
  await initBackend({ force: 'wasm', threads: 1 });
});

describe('kernelFlops', () => {
  it('counts 2 per multiply-add from the shapes, the same for a conv and both its gradients', () => {
    // x [2,8,8,3] * f [3,3,3,4] 'same' → y [2,8,8,4]: 2·(2·8·8·4)·(3·3·3) multiply-adds ×2.
    const fwd = 2 * (2 * 8 * 8 * 4) * (3 * 3 * 3);
    expect(kernelFlops('Conv2D', [[2, 8, 8, 3], [3, 3, 3, 4]], [[2, 8, 8, 4]])).toBe(fwd);
    expect(kernelFlops('FusedConv2D', [[2, 8, 8, 3], [3, 3, 3, 4], [4]], [[2, 8, 8, 4]])).toBe(fwd);
    expect(kernelFlops('Conv2DBackpropInput', [[2, 8, 8, 4], [3, 3, 3, 4]], [[2, 8, 8, 3]])).toBe(fwd);
    expect(kernelFlops('Conv2DBackpropFilter', [[2, 8, 8, 3], [2, 8, 8, 4]], [[3, 3, 3, 4]])).toBe(fwd);
    // Depthwise 3×3 over 5 channels, stride 2: y [1,4,4,5].
    const dw = 2 * (4 * 4 * 5) * 9;
    expect(kernelFlops('DepthwiseConv2dNative', [[1, 8, 8, 5], [3, 3, 5, 1]], [[1, 4, 4, 5]])).toBe(dw);
    expect(kernelFlops('DepthwiseConv2dNativeBackpropInput', [[1, 4, 4, 5], [3, 3, 5, 1]], [[1, 8, 8, 5]])).toBe(dw);
    expect(kernelFlops('DepthwiseConv2dNativeBackpropFilter', [[1, 8, 8, 5], [1, 4, 4, 5]], [[3, 3, 5, 1]])).toBe(dw);
    // [1, 6, 10] · [1, 10, 3] → [1, 6, 3]; and with a transposed a ([1, 10, 6]).
    expect(kernelFlops('BatchMatMul', [[1, 6, 10], [1, 10, 3]], [[1, 6, 3]])).toBe(2 * 6 * 3 * 10);
    expect(kernelFlops('_FusedMatMul', [[1, 10, 6], [1, 10, 3]], [[1, 6, 3]])).toBe(2 * 6 * 3 * 10);
    expect(kernelFlops('Add', [[4], [4]], [[4]])).toBeNull();
  });

  it('agrees with the FLOPs of a conv measured through the profiler', async () => {
    const x = tf.randomNormal([2, 8, 8, 3]);
    const f = tf.randomNormal([3, 3, 3, 4]);
    const info = await tf.profile(() => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'));
    const k = info.kernels.find((e) => e.name === 'Conv2D')!;
    expect(kernelFlops(k.name, k.inputShapes as number[][], k.outputShapes as number[][])).toBe(2 * (2 * 8 * 8 * 4) * 27);
    tf.dispose([x, f, info.result as tf.Tensor]);
  });
});

describe('profileTrainStep', () => {
  it('accounts a refnet step kernel by kernel: shares sum to 1, the filter gradients do the forward convs\' FLOPs', async () => {
    const p = await profileTrainStep('refnet', { size: 32, batch: 2, steps: 2 });
    expect(p.kernels.length).toBeGreaterThan(5);
    expect(p.kernels.reduce((a, k) => a + k.share, 0)).toBeCloseTo(1, 6);
    // Only registered kernels: no op scopes counted on top of the kernels they ran.
    expect(p.kernels.every((k) => !k.name.endsWith('__op') && k.name !== 'unnamed scope')).toBe(true);
    const gflop = (names: string[]) => p.kernels.filter((k) => names.includes(k.name)).reduce((a, k) => a + (k.gflopPerStep ?? 0), 0);
    const forward = gflop(['Conv2D', 'FusedConv2D']);
    expect(forward).toBeGreaterThan(0);
    expect(gflop(['Conv2DBackpropFilter'])).toBeCloseTo(forward, 9);
    expect(p.gflopPerStep).toBeGreaterThan(2 * forward); // forward, filter and (all but the first conv) input gradients
    expect(p.stepMs).toBeGreaterThan(0);
  }, 120_000);
});

describe('gemmPeak', () => {
  it('measures the plain GEMM, and the fused one exactly where relaxed SIMD is on', () => {
    const peak = gemmPeak(0.05);
    expect(peak.plainGflops).toBeGreaterThan(0.1);
    if (relaxedSimd().on) expect(peak.fmaGflops).toBeGreaterThan(0.1);
    else expect(peak.fmaGflops).toBeNull();
  });
});
