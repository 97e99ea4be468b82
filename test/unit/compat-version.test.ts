// The compat module's start-up check: on the tfjs version the patches were written for they are
// installed once; on another (simulated here before anything installs) nothing is patched, one
// warning says why, and tfjs's own path gives the results: layers unpatched, no inference plan,
// the wasm backend refused in favour of cpu.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import * as compat from '../../src/main/engine/compat/index.js';

describe('compat: the versions it was written for', () => {
  it('finds tfjs 4.22.0 everywhere (the installed packages)', () => {
    expect(compat.foundVersions()).toEqual({ core: '4.22.0', layers: '4.22.0', wasm: '4.22.0' });
    expect(compat.versionMismatch()).toBeNull();
    expect(compat.versionMismatch({ core: '4.22.0', layers: '4.23.0', wasm: '4.22.0' })).toMatch(/tfjs layers 4\.23\.0 found; .* written for 4\.22\.0/);
  });
});

describe('compat on another tfjs version (simulated)', () => {
  it('patches nothing, warns once, and the models run on tfjs\'s own path', async () => {
    await tf.setBackend('cpu');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // Layer classes, captured before anything could patch them.
    const bnProto = Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: unknown };
    const convProto = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })) as { call: unknown };
    const dwProto = Object.getPrototypeOf(tf.layers.depthwiseConv2d({ kernelSize: 3 })) as { call: unknown };
    const tfCalls = [bnProto.call, convProto.call, dwProto.call];

    compat.simulateVersions({ core: '4.23.0', layers: '4.23.0', wasm: '4.23.0' });
    try {
      const models = await import('../../src/main/engine/models/index.js');
      const plan = await import('../../src/main/engine/models/inference-plan.js');
      const { initBackend } = await import('../../src/main/engine/backend/select.js');

      expect(compat.installedPatches()).toEqual([]);
      expect([bnProto.call, convProto.call, dwProto.call]).toEqual(tfCalls);
      const warnings = compat.compatWarnings();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/tfjs core 4\.23\.0, layers 4\.23\.0, wasm 4\.23\.0 found; .* using tfjs's own layers and kernels/);
      expect(warn).toHaveBeenCalledTimes(1);

      // A model with BatchNorm, depthwise conv and relu6: the folded inference plan stays off and
      // predictFolded is exactly model.predict.
      const model = models.createModel({ arch: 'mobilenet_v2', width: 0.35, inputSize: 32, classes: 2, seed: 3 });
      expect(plan.inferencePlan(model)).toBeNull();
      const x = tf.randomUniform([2, 32, 32, 3], 0, 255, 'float32', 5);
      expect(Array.from(plan.predictFolded(model, x).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
      // Training mode runs (tfjs-layers' own BatchNorm training path).
      const y = model.apply(x, { training: true }) as tf.Tensor;
      expect(y.shape).toEqual([2, 2]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);

      // The backend selection refuses wasm with the reason and falls back to cpu.
      const report = await initBackend({ force: 'wasm' }).catch((e: Error) => e);
      const text = report instanceof Error ? report.message : JSON.stringify(report);
      expect(text).toMatch(/written for 4\.22\.0: the wasm gradient kernels stay off/);
      expect(compat.installedPatches()).toEqual([]);
    } finally {
      compat.simulateVersions(null);
      warn.mockRestore();
    }
  });
});
