// `distill bench --profile`: per-kernel time and GFLOP/s of a training step for each net, and the
// GEMM's own ceiling on this machine (engine/bench/profile.ts). JSON lines, a table for people.
import type { Output } from '../output.js';
import { initBackend } from '../../engine/backend/select.js';
import { gemmPeak, profileTrainStep } from '../../engine/bench/profile.js';

export async function runBenchProfile(a: { nets: string[]; size: number; batch: number; steps: number }, out: Output): Promise<number> {
  const backend = await initBackend();
  const peak = gemmPeak();
  out.event(
    { type: 'gemm-peak', backend: backend.active, threads: backend.threads, ...peak },
    `GEMM, one thread, operands in cache: ${peak.plainGflops.toFixed(1)} GFLOP/s mul + add` +
      (peak.fmaGflops === null ? ' (no relaxed SIMD here)' : `, ${peak.fmaGflops.toFixed(1)} fused multiply-add`) +
      `; ${backend.threads} thread(s)`,
  );
  for (const net of a.nets) {
    const p = await profileTrainStep(net, { size: a.size, batch: a.batch, steps: a.steps });
    const rows = p.kernels
      .slice(0, 14)
      .map((k) => `  ${k.name.padEnd(38)} ${k.msPerStep.toFixed(1).padStart(8)} ms ${(k.share * 100).toFixed(1).padStart(5)}% ${k.callsPerStep.toFixed(0).padStart(5)} calls` + (k.gflops === null ? '' : ` ${k.gflops.toFixed(1).padStart(6)} GFLOP/s`));
    out.event(
      { type: 'profile', ...p },
      [`${net} @${p.size}, batch ${p.batch}: ${p.stepMs.toFixed(1)} ms a step, ${(p.kernelFraction * 100).toFixed(0)}% in kernels, ${p.gflopPerStep.toFixed(2)} GFLOP (${p.gflops.toFixed(1)} GFLOP/s)`, ...rows].join('\n'),
    );
  }
  return 0;
}
