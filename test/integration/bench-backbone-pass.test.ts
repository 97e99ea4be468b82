// `distill bench --backbone-pass B`: the pretrained backbone's feature pass (what a backbone teacher
// costs per image) measured at its own input size, as one JSON line beside the nets' lines.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { TINY_CHANNELS, TINY_SIZE, writeTinyBackbone } from '../unit/tiny-backbone.js';

const BIN = path.resolve(__dirname, '../..', 'bin', 'distill.js');

describe('distill bench --backbone-pass', () => {
  it('reports the feature pass at the backbone\'s size, with no PyTorch figure where it has no twin', async () => {
    await tf.setBackend('cpu');
    const backbone = await writeTinyBackbone(2);
    const home = fs.mkdtempSync(path.join(path.dirname(backbone), 'home-'));
    const r = spawnSync(process.execPath, [BIN, 'bench', '--nets', 'refnet', '--size', '32', '--batch', '2', '--iters', '1', '--repeats', '1', '--backbone-pass', backbone, '--json', '--home', home], { encoding: 'utf8', timeout: 300_000 });
    fs.rmSync(path.dirname(backbone), { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const pass = lines.find((l) => l.type === 'backbone-pass')!;
    expect(pass).toMatchObject({ backbone, size: TINY_SIZE, batch: 2, feature_dim: TINY_CHANNELS[2], torch_infer_img_s: null, infer_ratio: null });
    expect(pass.infer_img_s as number).toBeGreaterThan(0);
    expect((lines.at(-1)!.backbonePass as { infer_img_s: number }).infer_img_s).toBe(pass.infer_img_s);
  }, 300_000);

  it('with --torch, reports our figures whether or not PyTorch can run here (ratios where it can, the reason where not)', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-torch-'));
    const r = spawnSync(process.execPath, [BIN, 'bench', '--nets', 'refnet', '--size', '32', '--batch', '2', '--iters', '1', '--repeats', '1', '--torch', '--json', '--home', home], { encoding: 'utf8', timeout: 300_000 });
    fs.rmSync(home, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const bench = lines.find((l) => l.type === 'bench')!;
    expect(bench.train_img_s as number).toBeGreaterThan(0);
    const why = lines.find((l) => l.type === 'info' && String(l.message).startsWith('PyTorch yardstick unavailable'));
    // Here either PyTorch ran (its figures beside ours) or the line says why not (no python3-torch, no ../shared).
    if (why) expect(bench.torch_train_img_s).toBeUndefined();
    else expect(bench.torch_train_img_s as number).toBeGreaterThan(0);
    expect(lines.at(-1)!.torch).toBe(!why);
  }, 300_000);
});
