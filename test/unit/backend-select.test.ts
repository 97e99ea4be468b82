import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BackendReport } from '../../src/shared/domain.js';
import { backendReport, CANDIDATES, initBackend } from '../../src/main/engine/backend/select.js';

const require = createRequire(import.meta.url);

/** Runs initBackend in a fresh Node (backends are process-global) and returns its report. */
function reportInChild(env: Record<string, string>): BackendReport {
  const code = `
    const { initBackend } = await import(${JSON.stringify(new URL('../../src/main/engine/backend/select.ts', import.meta.url).href)});
    const r = await initBackend();
    process.stdout.write(JSON.stringify(r));`;
  const out = execFileSync(process.execPath, ['--import', require.resolve('tsx'), '--input-type=module', '-e', code], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return BackendReport.parse(JSON.parse(out));
}

describe('initBackend', () => {
  it('picks wasm here (no libtensorflow), explains every other candidate, and is idempotent', async () => {
    delete process.env.DISTILL_BACKEND;
    const listeners = () => [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
    const before = listeners();
    const r = await initBackend({ threads: 2 });
    // Emscripten's rethrowing process handlers are removed (they bury errors under its glue code).
    expect(listeners()).toEqual(before);
    expect(BackendReport.parse(r)).toEqual(r);
    expect(r.active).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(r.simd).toBe(true);
    expect(r.threads).toBeGreaterThanOrEqual(1);
    expect(r.candidates.map((c) => c.name)).toEqual([...CANDIDATES]);
    const gpu = r.candidates.find((c) => c.name === 'tensorflow-gpu')!;
    expect(gpu.available).toBe(false);
    expect(gpu.reason).toMatch(/tfjs-node-gpu is not installed/);
    expect(r.candidates.find((c) => c.name === 'cpu')!.reason).toMatch(/wasm is faster/);
    expect(await initBackend({ force: 'cpu' })).toBe(r);
    expect(backendReport()).toBe(r);
    // The backend computes: a 3×3 conv against the same conv on the cpu backend.
    const x = tf.tensor4d(Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => Math.sin(i)), [2, 5, 5, 3]);
    const w = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)), [3, 3, 3, 4]);
    const got = tf.conv2d(x, w, 1, 'same').dataSync();
    await tf.setBackend('cpu');
    const want = tf.conv2d(x, w, 1, 'same').dataSync();
    await tf.setBackend('wasm');
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
  });

  it('honours DISTILL_BACKEND=cpu with the reason on each skipped candidate', () => {
    const r = reportInChild({ DISTILL_BACKEND: 'cpu' });
    expect(r.active).toBe('cpu');
    expect(r.forcedBy).toBe('DISTILL_BACKEND=cpu');
    expect(r.threads).toBe(1);
    for (const c of r.candidates.filter((c) => c.name !== 'cpu')) expect(c.reason).toBe('not allowed: forced by DISTILL_BACKEND=cpu');
  });

  it('DISTILL_THREADS=1 gives the single-threaded wasm build', () => {
    const r = reportInChild({ DISTILL_BACKEND: 'wasm', DISTILL_THREADS: '1' });
    expect(r.active).toBe('wasm');
    expect(r.threads).toBe(1);
  });

  it('refuses a forced backend that cannot start, naming why', () => {
    expect(() => reportInChild({ DISTILL_BACKEND: 'tensorflow' })).toThrow(/no TensorFlow binding works here.*not installed/s);
    expect(() => reportInChild({ DISTILL_BACKEND: 'gpu' })).toThrow(/DISTILL_BACKEND must be tensorflow, wasm or cpu/);
  });
});
