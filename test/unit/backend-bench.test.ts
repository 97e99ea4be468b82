// `distill bench` engine side: our measurement on a tiny configuration, and the PyTorch
// yardstick's parsing/median/ratio logic driven by a stand-in script (torch itself is too slow and
// not guaranteed in CI).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithTorch, runBench, runTorchRef, torchUnavailable, type BenchLine, type TorchLine } from '../../src/main/engine/bench/index.js';
import { initBackend } from '../../src/main/engine/backend/select.js';

describe('runBench', () => {
  it('measures each net on the active backend, with torchvision-matching parameter counts', async () => {
    const report = await initBackend({ threads: 1 });
    const lines: BenchLine[] = [];
    for await (const l of runBench({ nets: ['refnet', 'mobilenet_v2_035'], size: 32, batch: 2, iters: 1, repeats: 2 })) lines.push(l);
    expect(lines.map((l) => l.net)).toEqual(['refnet', 'mobilenet_v2_035']);
    expect(lines[0]!.params).toBe(138050);
    expect(lines[1]!.params).toBe(398690);
    for (const l of lines) {
      expect(l).toMatchObject({ size: 32, batch: 2, backend: report.active, threads: report.threads });
      expect(l.infer_img_s).toBeGreaterThan(0);
      expect(l.train_img_s).toBeGreaterThan(0);
      expect(l.train_img_s).toBeLessThan(l.infer_img_s * 1.5); // a training step does more than a forward pass
    }
  });

  it('rejects an unknown net before measuring anything', async () => {
    const it = runBench({ nets: ['vgg16'], size: 32, batch: 2, iters: 1 })[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toThrow(/unknown net "vgg16"/);
  });
});

describe('runTorchRef', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-torch-'));
  // Stands in for torch_ref.py: echoes its arguments back in the same line format; the figures
  // differ per run (a counter file), so the median is observable.
  const script = path.join(dir, 'fake_ref.cjs');
  fs.writeFileSync(
    script,
    `const fs = require('fs'); const a = process.argv.slice(2); const arg = (k) => a[a.indexOf(k) + 1];
     const f = ${JSON.stringify(path.join(dir, 'n'))}; const n = fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8')) : 0; fs.writeFileSync(f, String(n + 1));
     console.error('some warning');
     for (const net of arg('--nets').split(',')) console.log(JSON.stringify({ net, size: +arg('--size'), batch: +arg('--batch'), params: 7,
       infer_img_s: [100, 300, 200][n], train_img_s: [10, 30, 20][n] * +arg('--threads'), engine: 'pytorch fake' }));`,
  );

  it('runs the script with our settings and reports the median of the repeats', async () => {
    const got: TorchLine[] = [];
    for await (const l of runTorchRef({ nets: ['refnet', 'resnet18'], size: 64, batch: 8, iters: 3, repeats: 3, threads: 2, python: process.execPath, script })) got.push(l);
    expect(got).toEqual([
      { net: 'refnet', size: 64, batch: 8, params: 7, infer_img_s: 200, train_img_s: 40, engine: 'pytorch fake' },
      { net: 'resnet18', size: 64, batch: 8, params: 7, infer_img_s: 200, train_img_s: 40, engine: 'pytorch fake' },
    ]);
    const ours: BenchLine = { net: 'refnet', size: 64, batch: 8, params: 7, infer_img_s: 150, train_img_s: 20, backend: 'wasm', threads: 2 };
    expect(compareWithTorch(ours, got[0]!)).toMatchObject({ torch_train_img_s: 40, train_ratio: 0.5, infer_ratio: 0.75, torch_engine: 'pytorch fake' });
    expect(() => compareWithTorch(ours, got[1]!)).toThrow(/comparing different runs/);
  });

  it('says why it cannot run, and surfaces a failing script', async () => {
    expect(torchUnavailable({ python: '/nonexistent/python3' })).toMatch(/not found/);
    const bad = path.join(dir, 'bad.cjs');
    fs.writeFileSync(bad, "console.error('ModuleNotFoundError: No module named torch'); process.exit(1);");
    const it = runTorchRef({ nets: ['refnet'], size: 32, batch: 2, iters: 1, threads: 1, python: process.execPath, script: bad })[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toThrow(/exited with 1: ModuleNotFoundError: No module named torch/);
  });
});
