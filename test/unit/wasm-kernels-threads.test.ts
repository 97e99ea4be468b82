// The SIMD kernels split over two threads (threaded wasm build, shared heap) give the cpu
// backend's results; shapes are big enough to pass the parallel threshold.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/main/engine/backend/select.js';
import { simdCtx, asWasm, ptr } from '../../src/main/engine/wasm-kernels/util.js';
import { winogradCalls } from '../../src/main/engine/wasm-kernels/winograd.js';
import { depthwiseSimdCalls } from '../../src/main/engine/wasm-kernels/depthwise-conv2d.js';
import { pointwiseCalls } from '../../src/main/engine/wasm-kernels/conv2d-forward.js';

beforeAll(async () => {
  const r = await initBackend({ force: 'wasm', threads: 2 });
  expect(r.threads).toBe(2);
});

let seed = 100;
const rnd = (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', seed++);

async function relErr(fn: () => tf.Tensor): Promise<number> {
  await tf.setBackend('wasm');
  const av = await tf.tidy(fn).data();
  await tf.setBackend('cpu');
  const bv = await tf.tidy(fn).data();
  await tf.setBackend('wasm');
  let d = 0;
  let m = 0;
  for (let i = 0; i < bv.length; i++) {
    d = Math.max(d, Math.abs(av[i]! - bv[i]!));
    m = Math.max(m, Math.abs(bv[i]!));
  }
  return d / m;
}

describe('SIMD kernels on two threads', () => {
  it('has a worker pool on the shared heap', () => {
    const ctx = simdCtx(asWasm(tf.backend()));
    expect(ctx?.threads).toBe(2);
    expect(ctx?.pool).not.toBeNull();
  });

  it('runs every part of a job exactly once, however the threads claim them, and survives a failing part', () => {
    const backend = asWasm(tf.backend());
    const ctx = simdCtx(backend)!;
    const [rows, k, cols] = [8192, 96, 64];
    const a = rnd([rows, k]);
    const b = rnd([k, cols]);
    const c = tf.zeros([rows, cols]);
    const want = tf.matMul(a, b).dataSync();
    const [pa, pb, pc] = [a, b, c].map((t) => ptr(backend, t)) as [number, number, number];
    const heap = () => new Float32Array(backend.wasm.HEAPU8.buffer, pc, rows * cols);
    // Each part accumulates into its own rows of C: a part run twice would show as a doubled row.
    const before = { ...ctx.pool!.counts };
    for (const parts of [2, 5, 16]) {
      for (let trial = 0; trial < 20; trial++) {
        heap().fill(0);
        const per = rows / 16;
        const jobs = Array.from({ length: parts }, (_, p) => {
          const r0 = Math.floor((p * rows) / parts / per) * per;
          const r1 = p === parts - 1 ? rows : Math.floor(((p + 1) * rows) / parts / per) * per;
          return [pa + r0 * k * 4, pb, pc + r0 * cols * 4, k, r1 - r0, cols, k, 1, cols, cols, 1];
        });
        ctx.pool!.run(ctx.k.gemm, 'gemm', jobs);
        const got = heap();
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        expect(worst).toBeLessThan(1e-4);
      }
    }
    // The worker took its share of the parts (each takes ~0.1–1 ms; a wake-up ~0.1 ms).
    expect(ctx.pool!.counts.parts - before.parts).toBe(20 * (2 + 5 + 16));
    expect(ctx.pool!.counts.workerParts - before.workerParts).toBeGreaterThan(20);
    // A part that traps (an address past the heap) fails the job wherever it ran; the next job runs.
    const bad = Array.from({ length: 8 }, (_, p) => (p === 5 ? [0x7ffffff0, pb, pc, k, 4, cols, k, 1, cols, cols, 0] : [pa, pb, pc, k, 4, cols, k, 1, cols, cols, 0]));
    expect(() => ctx.pool!.run(ctx.k.gemm, 'gemm', bad)).toThrow();
    heap().fill(0);
    ctx.pool!.run(ctx.k.gemm, 'gemm', [[pa, pb, pc, k, rows / 2, cols, k, 1, cols, cols, 0], [pa + (rows / 2) * k * 4, pb, pc + (rows / 2) * cols * 4, k, rows / 2, cols, k, 1, cols, cols, 0]]);
    expect(Math.abs(heap()[rows * cols - 1]! - want[rows * cols - 1]!)).toBeLessThan(1e-4);
    tf.dispose([a, b, c]);
  });

  it.each([
    { x: [4, 20, 20, 16], f: [3, 3, 16, 24], s: 1, pad: 'same' as const },
    { x: [4, 21, 21, 16], f: [3, 3, 16, 8], s: 2, pad: 'valid' as const },
    { x: [6, 16, 16, 64], f: [1, 1, 64, 64], s: 1, pad: 'valid' as const },
    { x: [6, 16, 16, 48], f: [1, 1, 48, 96], s: 2, pad: 'same' as const },
    // Stems: the filter gradient as per-row GEMMs summed (no im2col), the batch split over threads.
    { x: [6, 30, 30, 3], f: [3, 3, 3, 16], s: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]] },
    { x: [5, 29, 31, 3], f: [7, 7, 3, 12], s: 2, pad: 'same' as const },
  ])('conv gradients: x $x f $f stride $s', async ({ x, f, s, pad }) => {
    const xs = rnd(x);
    const w = rnd(f);
    const dy = rnd(tf.conv2d(xs as tf.Tensor4D, w as tf.Tensor4D, s, pad).shape);
    const attrs = { strides: [s, s], pad, dataFormat: 'NHWC' };
    expect(await relErr(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy }, { ...attrs, filterShape: f }) as tf.Tensor)).toBeLessThan(1e-4);
    expect(await relErr(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x }) as tf.Tensor)).toBeLessThan(1e-4);
    expect(await relErr(() => tf.transpose(xs.reshape([-1, x[3]!])))).toBe(0);
  });

  it('Winograd convolutions (forward with bias and relu6, input and filter gradients) split over threads match cpu', async () => {
    const xs = rnd([5, 17, 15, 32]).mul(0.3);
    const w = rnd([3, 3, 32, 48]);
    const bias = rnd([48]);
    const before = winogradCalls.count;
    expect(await relErr(() => tf.fused.conv2d({ x: xs as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'relu6' }))).toBeLessThan(1e-5);
    const dy = rnd([5, 17, 15, 48]);
    expect(await relErr(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', inputShape: xs.shape }) as tf.Tensor)).toBeLessThan(1e-5);
    expect(await relErr(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: w.shape }) as tf.Tensor)).toBeLessThan(2e-5);
    expect(winogradCalls.count - before).toBe(3);
    tf.dispose([xs, w, bias, dy]);
  });

  it("XNNPACK's idle worker gives its core up within a millisecond of an operator (the spin-patched binary)", () => {
    // Stock pthreadpool spins ~3 ms of CPU after every job (THREADS.md); patched, ~0.1 ms.
    const x = rnd([32, 24, 24, 64]);
    const w = rnd([1, 1, 64, 64]);
    const idle = new Int32Array(new SharedArrayBuffer(4));
    const cpuMs: number[] = [];
    for (let i = 0; i < 3; i++) tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').dispose(); // operator set up, code compiled
    Atomics.wait(idle, 0, 0, 20);
    for (let i = 0; i < 11; i++) {
      tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').dispose();
      const c0 = process.cpuUsage();
      Atomics.wait(idle, 0, 0, 15);
      const c = process.cpuUsage(c0);
      cpuMs.push((c.user + c.system) / 1000);
    }
    const median = [...cpuMs].sort((a, b) => a - b)[5]!; // V8's background threads add a few outliers
    expect(median, `CPU ms of the process during a 15-ms idle wait after a convolution: ${cpuMs.join(', ')}`).toBeLessThan(1.5);
    tf.dispose([x, w]);
  });

  it.each([
    { x: [5, 19, 17, 24], s: 1 }, // split over images
    { x: [5, 19, 17, 24], s: 2 },
    { x: [1, 40, 37, 32], s: 1 }, // one image: split over output rows
  ])('3×3 depthwise convolution (bias, relu6) split over threads matches cpu: x $x stride $s', async ({ x, s }) => {
    const xs = rnd(x);
    const w = rnd([3, 3, x[3]!, 1]);
    const bias = rnd([x[3]!]);
    const before = depthwiseSimdCalls.count;
    expect(await relErr(() => tf.fused.depthwiseConv2d({ x: xs as tf.Tensor4D, filter: w as tf.Tensor4D, strides: s, pad: 'same', bias, activation: 'relu6' }))).toBeLessThan(1e-5);
    expect(depthwiseSimdCalls.count - before).toBe(1);
    tf.dispose([xs, w, bias]);
  });

  it('1×1 convolution (bias, relu6) as a GEMM split over rows of pixels matches cpu', async () => {
    const xs = rnd([6, 17, 15, 48]);
    const w = rnd([1, 1, 48, 36]);
    const bias = rnd([36]);
    const before = pointwiseCalls.count;
    expect(await relErr(() => tf.fused.conv2d({ x: xs as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'relu6' }))).toBeLessThan(1e-5);
    expect(pointwiseCalls.count - before).toBe(1);
    tf.dispose([xs, w, bias]);
  });

  it('MaxPool gradient split over threads matches cpu', async () => {
    const xs = rnd([6, 24, 24, 16]);
    const dy = rnd([6, 12, 12, 16]);
    expect(await relErr(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 3, 2, 'same'), dy)))(xs))).toBeLessThan(1e-6); // overlapping windows: sums in another order
    tf.dispose([xs, dy]);
  });

  it('Pad, Slice and the [B,H,W,C] → [H,W,B,C] transpose on the threaded heap equal cpu exactly', async () => {
    // Large tensors, a batch of 8 and a batch of 1 (row copies of a whole image).
    const a = rnd([8, 64, 64, 16]);
    const one = rnd([1, 300, 300, 4]);
    expect(await relErr(() => tf.pad(a, [[0, 0], [1, 2], [0, 1], [0, 0]]))).toBe(0);
    expect(await relErr(() => tf.slice(a, [0, 1, 2, 0], [8, 60, 60, 16]))).toBe(0);
    expect(await relErr(() => tf.slice(a, [3, 0, 0, 0], [5, 64, 64, 16]))).toBe(0);
    expect(await relErr(() => tf.pad(one, [[0, 0], [2, 1], [1, 2], [0, 0]]))).toBe(0);
    expect(await relErr(() => tf.slice(one, [0, 5, 7, 0], [1, 290, 280, 4]))).toBe(0);
    expect(await relErr(() => tf.transpose(a, [1, 2, 0, 3]))).toBe(0);
    tf.dispose([a, one]);
  });

  it('elementwise kernels split over threads', async () => {
    const a = rnd([4, 33, 33, 32]);
    const b = rnd([4, 33, 33, 32]);
    const bias = rnd([32]);
    expect(await relErr(() => tf.mul(a, b))).toBe(0);
    expect(await relErr(() => tf.sub(a, b))).toBe(0);
    expect(await relErr(() => tf.add(a, bias))).toBe(0);
    expect(await relErr(() => tf.step(a))).toBe(0);
    expect(await relErr(() => tf.relu6(a.mul(5)))).toBe(0);
    expect(await relErr(() => tf.minimum(6, tf.relu(a.mul(5))))).toBe(0);
    expect(await relErr(() => tf.mul(bias, a))).toBe(0);
    expect(await relErr(() => tf.cast(tf.greater(tf.scalar(0.1), a), 'float32').add(1))).toBe(0);
    expect(await relErr(() => tf.cast(tf.lessEqual(a, b), 'float32').add(1))).toBe(0);
  });

  it('fastAdam on a large variable (split over threads) equals tf.train.adam', async () => {
    const { fastAdam } = await import('../../src/main/engine/wasm-kernels/fast-adam.js');
    const init = rnd([300, 300]);
    const target = rnd([300, 300]);
    const run = (opt: tf.Optimizer) => {
      const v = tf.variable(init.clone());
      for (let s = 0; s < 3; s++) opt.minimize(() => tf.sum(tf.square(tf.sub(v, target))) as tf.Scalar);
      const out = v.dataSync().slice();
      v.dispose();
      opt.dispose();
      return out;
    };
    expect(Array.from(run(fastAdam(0.01)))).toEqual(Array.from(run(tf.train.adam(0.01))));
  });

  it('channel sums and affine split over threads', async () => {
    const { channelSums, channelAffine } = await import('../../src/main/engine/wasm-kernels/channel-ops.js');
    const x = rnd([8, 30, 30, 24]);
    const C = 24;
    const xs = x.dataSync();
    const m = new Float64Array(C).fill(0.25);
    const want1 = new Float64Array(C);
    const want2 = new Float64Array(C);
    for (let i = 0; i < xs.length; i++) {
      const d = xs[i]! - 0.25;
      want1[i % C]! += d;
      want2[i % C]! += d * d;
    }
    const got = channelSums('moments', x, null, m)!;
    for (let c = 0; c < C; c++) {
      expect(got.s1[c]).toBeCloseTo(want1[c]!, 2);
      expect(got.s2[c]! / want2[c]!).toBeCloseTo(1, 5);
    }
    const a = new Float64Array(C).fill(2);
    const b = new Float64Array(C).fill(-1);
    const y = channelAffine(x, a, b)!.dataSync();
    for (let i = 0; i < xs.length; i += 997) expect(y[i]).toBeCloseTo(xs[i]! * 2 - 1, 5);
  });

  it('relu and relu6 gradients split over threads equal the definition', () => {
    const x = rnd([4, 40, 40, 16]).mul(5);
    const dy = rnd([4, 40, 40, 16]);
    const xs = x.dataSync();
    const ds = dy.dataSync();
    for (const [f, cap] of [[tf.relu, Infinity], [tf.relu6, 6]] as const) {
      const got = tf.grad((v: tf.Tensor) => f(v))(x, dy).dataSync();
      let bad = 0;
      for (let i = 0; i < xs.length; i++) if (got[i] !== (xs[i]! > 0 && xs[i]! <= cap ? ds[i]! : 0)) bad++;
      expect(bad).toBe(0);
    }
    tf.dispose([x, dy]);
  });

  it('the shifted channel affine (x − m)·a + z·k + b splits over threads', async () => {
    const { channelAffine } = await import('../../src/main/engine/wasm-kernels/channel-ops.js');
    const C = 12;
    const x = rnd([6, 30, 30, C]).add(6);
    const z = rnd([6, 30, 30, C]);
    const [xs, zs] = [x.dataSync(), z.dataSync()];
    const m = Float32Array.from({ length: C }, (_, c) => 6 + c / 100);
    const a = Float64Array.from({ length: C }, (_, c) => 300 + c);
    const k = Float64Array.from({ length: C }, (_, c) => -0.5 + c / 10);
    const b = Float64Array.from({ length: C }, (_, c) => c - 3);
    const y = channelAffine(x, a, b, z, k, m)!.dataSync();
    let worst = 0;
    for (let i = 0; i < xs.length; i++) {
      const c = i % C;
      const want = (xs[i]! - m[c]!) * a[c]! + zs[i]! * k[c]! + b[c]!;
      worst = Math.max(worst, Math.abs(y[i]! - want) / Math.max(1, Math.abs(want)));
    }
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([x, z]);
  });

  it.each([
    { x: [4, 20, 20, 32], s: 1, pad: 'same' as const },
    { x: [4, 25, 25, 24], s: 2, pad: 'valid' as const },
  ])('depthwise gradients: x $x stride $s', async ({ x, s, pad }) => {
    const xs = rnd(x);
    const w = rnd([3, 3, x[3]!, 1]);
    const dy = rnd(tf.depthwiseConv2d(xs as tf.Tensor4D, w as tf.Tensor4D, s, pad).shape);
    const attrs = { strides: [s, s], pad, dilations: [1, 1] };
    expect(await relErr(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: xs, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor)).toBeLessThan(1e-4);
    expect(await relErr(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x }) as tf.Tensor)).toBeLessThan(1e-4);
  });
});
