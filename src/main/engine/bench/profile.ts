// Where a training step's time goes: tfjs's profiler over a few steps of a bench net, per kernel
// (ms and calls per step, and for convolutions and matmuls the GFLOP they do and the GFLOP/s they
// reach), beside the best the project's GEMM reaches on this machine with its operands in cache.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseNetName } from '../models/index.js';
import { benchNet } from './run-bench.js';
import { simdKernels } from '../wasm-kernels/simd-module.js';

export const KernelProfile = z.object({
  name: z.string(),
  callsPerStep: z.number(),
  msPerStep: z.number(),
  /** Fraction of the kernels' summed time. */
  share: z.number(),
  /** Multiply-adds ×2 per step, for convolutions and matmuls; null for other kernels. */
  gflopPerStep: z.number().nullable(),
  gflops: z.number().nullable(),
});
export type KernelProfile = z.infer<typeof KernelProfile>;

export const StepProfile = z.object({
  net: z.string(),
  size: z.number().int(),
  batch: z.number().int(),
  steps: z.number().int(),
  /** Wall time of a step under the profiler (it waits for each kernel, so a little above the bench's). */
  stepMs: z.number(),
  /** Summed kernel time over the step's wall time: the rest is JS between kernels (tape, optimizer). */
  kernelFraction: z.number(),
  gflopPerStep: z.number(),
  gflops: z.number(),
  kernels: z.array(KernelProfile),
});
export type StepProfile = z.infer<typeof StepProfile>;

const prod = (s: readonly number[] | null | undefined) => (s ?? []).reduce((a, b) => a * b, 1);

/**
 * Floating-point operations of one kernel call from its shapes (2 per multiply-add), for the kernels
 * that carry a network's arithmetic; null for the rest (elementwise, reductions, data movement).
 */
export function kernelFlops(name: string, inputs: readonly (readonly number[] | null)[], outputs: readonly (readonly number[])[]): number | null {
  const out = outputs[0] ?? [];
  switch (name) {
    case 'Conv2D':
    case 'FusedConv2D': {
      const f = inputs[1]!; // [kh, kw, ci, co]
      return 2 * prod(out) * f[0]! * f[1]! * f[2]!;
    }
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2D': {
      const f = inputs[1]!; // [kh, kw, ci, m]
      return 2 * prod(out) * f[0]! * f[1]!;
    }
    case 'Conv2DBackpropInput': {
      const [dy, f] = [inputs[0]!, inputs[1]!];
      return 2 * prod(dy) * f[0]! * f[1]! * f[2]!;
    }
    case 'Conv2DBackpropFilter': {
      const dy = inputs[1]!;
      return 2 * prod(dy) * out[0]! * out[1]! * out[2]!;
    }
    case 'DepthwiseConv2dNativeBackpropInput': {
      const [dy, f] = [inputs[0]!, inputs[1]!];
      return 2 * prod(dy) * f[0]! * f[1]!;
    }
    case 'DepthwiseConv2dNativeBackpropFilter': {
      const dy = inputs[1]!;
      return 2 * prod(dy) * out[0]! * out[1]!;
    }
    case 'BatchMatMul':
    case '_FusedMatMul': {
      // out [.., m, n]; a holds m and k in its last two axes (either order).
      const a = inputs[0]!;
      const m = out[out.length - 2]!;
      const k = a[a.length - 2] === m ? a[a.length - 1]! : a[a.length - 2]!;
      return 2 * prod(out) * k;
    }
    default:
      return null;
  }
}

/** tfjs's profiler over `steps` training steps of a bench net (after one warm-up step). */
export async function profileTrainStep(net: string, o: { size: number; batch: number; steps: number }): Promise<StepProfile> {
  const bench = benchNet(parseNetName(net), o);
  try {
    bench.step();
    const t0 = performance.now();
    const info = await tf.profile(() => {
      for (let i = 0; i < o.steps; i++) bench.step();
    });
    const wallMs = performance.now() - t0;
    const by = new Map<string, { calls: number; ms: number; flops: number | null }>();
    const backendName = tf.getBackend();
    for (const k of info.kernels) {
      // The profiler also lists op scopes (a custom-gradient op's forward, "unnamed scope") around the
      // kernels they run: only registered kernels count, so no time is counted twice.
      if (!tf.getKernel(k.name, backendName)) continue;
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const flops = kernelFlops(k.name, k.inputShapes as (number[] | null)[], k.outputShapes as number[][]);
      const e = by.get(k.name) ?? { calls: 0, ms: 0, flops: flops === null ? null : 0 };
      e.calls++;
      e.ms += ms;
      if (e.flops !== null && flops !== null) e.flops += flops;
      by.set(k.name, e);
    }
    const totalMs = [...by.values()].reduce((a, e) => a + e.ms, 0);
    const totalFlops = [...by.values()].reduce((a, e) => a + (e.flops ?? 0), 0);
    const kernels = [...by.entries()]
      .map(([name, e]) => ({
        name,
        callsPerStep: e.calls / o.steps,
        msPerStep: e.ms / o.steps,
        share: totalMs > 0 ? e.ms / totalMs : 0,
        gflopPerStep: e.flops === null ? null : e.flops / o.steps / 1e9,
        gflops: e.flops === null || e.ms <= 0 ? null : e.flops / 1e9 / (e.ms / 1000),
      }))
      .sort((a, b) => b.msPerStep - a.msPerStep);
    return StepProfile.parse({
      net,
      size: o.size,
      batch: o.batch,
      steps: o.steps,
      stepMs: wallMs / o.steps,
      kernelFraction: wallMs > 0 ? totalMs / wallMs : 0,
      gflopPerStep: totalFlops / o.steps / 1e9,
      gflops: totalFlops / 1e9 / (wallMs / 1000),
      kernels,
    });
  } finally {
    bench.dispose();
  }
}

export const GemmPeak = z.object({
  /** One thread, operands in L1: the plain mul + add kernel. */
  plainGflops: z.number(),
  /** The same with relaxed SIMD's fused multiply-add; null where the runtime lacks it. */
  fmaGflops: z.number().nullable(),
});
export type GemmPeak = z.infer<typeof GemmPeak>;

/**
 * The project's GEMM on one thread with its operands in cache (C[4×64] += A[4×256]·B[256×64]): the
 * ceiling its register tiles reach on this machine, to read a kernel's GFLOP/s against.
 */
export function gemmPeak(seconds = 0.5): GemmPeak {
  const memory = new WebAssembly.Memory({ initial: 4 });
  const s = simdKernels(memory, 1);
  const [P, I, J] = [256, 4, 64];
  const a = 1024;
  const b = a + P * I * 4;
  const c = b + P * J * 4;
  const f32 = new Float32Array(memory.buffer);
  for (let i = 0; i < (c + I * J * 4) / 4; i++) f32[i] = ((i * 7919) % 101) / 101 - 0.5;
  const rate = (fn: (...args: number[]) => void): number => {
    const call = () => fn(a, b, c, P, I, J, P, 1, J, J, 0);
    for (let i = 0; i < 50; i++) call(); // compiled and warm
    let calls = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < seconds * 1000) {
      for (let i = 0; i < 100; i++) call();
      calls += 100;
      t = performance.now();
    }
    return (2 * P * I * J * calls) / 1e9 / ((t - t0) / 1000);
  };
  return GemmPeak.parse({ plainGflops: rate(s.k.gemm), fmaGflops: s.k.gemmFma ? rate(s.k.gemmFma) : null });
}
