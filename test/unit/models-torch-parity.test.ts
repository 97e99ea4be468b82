// Numerical parity with PyTorch/torchvision: torch builds the net, its weights are copied into
// ours by layer name, and the feature maps before global pooling must agree to float32 precision.
// This checks structure beyond parameter counts (padding alignment, strides, skips, BN placement).
// Needs /usr/bin/python3 with torch + torchvision (Debian python3-torch); skipped without them.
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTrainableParams, createModel } from '../../src/main/engine/models/index.js';

const PY = '/usr/bin/python3';
const hasTorch = (() => {
  try {
    execFileSync(PY, ['-c', 'import torch, torchvision'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
})();

// Builds the torch net (seeded), randomizes BN statistics, writes weights in tfjs layout keyed by our
// layer names, a fixed input and torch's pre-pool features (NHWC).
const DUMP = String.raw`
import sys, json, struct
import numpy as np, torch, torchvision
import os
arch, size, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def refnet(classes=2):  # as ../shared/bench/torch_ref.py
    layers, c = [torch.nn.Conv2d(3, 32, 3, 2, 1), torch.nn.ReLU()], 32
    for f in (64, 128, 256):
        layers += [torch.nn.Conv2d(c, c, 3, 2, 1, groups=c), torch.nn.ReLU(), torch.nn.Conv2d(c, f, 1), torch.nn.ReLU(),
                   torch.nn.Conv2d(f, f, 3, 1, 1, groups=f), torch.nn.ReLU(), torch.nn.Conv2d(f, f, 1), torch.nn.ReLU()]
        c = f
    return torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(c, classes))
torch.manual_seed(0)
if arch == 'refnet': m = refnet()
elif arch.startswith('mobilenet_v2'): m = torchvision.models.mobilenet_v2(width_mult=float(arch.split(':')[1]), num_classes=2)
else: m = torchvision.models.resnet18(num_classes=2)
# random BN stats so eval-mode BN is not the identity
for mod in m.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        mod.running_mean.uniform_(-0.5, 0.5); mod.running_var.uniform_(0.5, 2.0)
        mod.weight.data.uniform_(0.5, 1.5); mod.bias.data.uniform_(-0.2, 0.2)
m.eval()
sd = m.state_dict()
out = []  # (tfjs layer name, [arrays])
def conv(tn, tk, dw=False):
    w = sd[tk + '.weight'].numpy()
    w = w.transpose(2, 3, 0, 1) if dw else w.transpose(2, 3, 1, 0)
    arrs = [w]
    if tk + '.bias' in sd: arrs.append(sd[tk + '.bias'].numpy())
    out.append((tn, arrs))
def bn(tn, tk):
    out.append((tn, [sd[tk + '.' + k].numpy() for k in ('weight', 'bias', 'running_mean', 'running_var')]))
def lin(tn, tk):
    out.append((tn, [sd[tk + '.weight'].numpy().T, sd[tk + '.bias'].numpy()]))
if arch == 'refnet':
    conv('stem_conv', '0')
    for s in range(3):
        b = 2 + 8 * s
        conv(f's{s+1}_dw1', str(b), True); conv(f's{s+1}_pw1', str(b + 2)); conv(f's{s+1}_dw2', str(b + 4), True); conv(f's{s+1}_pw2', str(b + 6))
    lin('logits', '28')
elif arch.startswith('mobilenet'):
    conv('stem_conv', 'features.0.0'); bn('stem_bn', 'features.0.1')
    for i in range(17):
        p = f'features.{i+1}.conv'; n = f'b{i}'
        if i == 0:
            conv(n + '_dw', p + '.0.0', True); bn(n + '_dw_bn', p + '.0.1'); conv(n + '_project', p + '.1'); bn(n + '_project_bn', p + '.2')
        else:
            conv(n + '_expand_conv', p + '.0.0'); bn(n + '_expand_bn', p + '.0.1')
            conv(n + '_dw', p + '.1.0', True); bn(n + '_dw_bn', p + '.1.1'); conv(n + '_project', p + '.2'); bn(n + '_project_bn', p + '.3')
    conv('head_conv', 'features.18.0'); bn('head_bn', 'features.18.1'); lin('logits', 'classifier.1')
else:
    conv('stem_conv', 'conv1'); bn('stem_bn', 'bn1')
    for s in range(4):
        for i in range(2):
            p = f'layer{s+1}.{i}'; n = f'layer{s+1}_{i}'
            conv(n + '_conv1', p + '.conv1'); bn(n + '_bn1', p + '.bn1'); conv(n + '_conv2', p + '.conv2'); bn(n + '_bn2', p + '.bn2')
            if p + '.downsample.0.weight' in sd: conv(n + '_down_conv', p + '.downsample.0'); bn(n + '_down_bn', p + '.downsample.1')
    lin('logits', 'fc')
g = torch.Generator().manual_seed(1)
x = torch.rand(2, size, size, 3, generator=g) * 255
feat = m[:-3] if arch == 'refnet' else (m.features if arch.startswith('mobilenet') else torch.nn.Sequential(*list(m.children())[:-2]))
with torch.no_grad():
    y = feat((x / 127.5 - 1).permute(0, 3, 1, 2).contiguous()).permute(0, 2, 3, 1).contiguous().numpy()
blobs = [a.astype(np.float32).ravel() for _, arrs in out for a in arrs]
man = {'layers': [{'name': n, 'shapes': [list(a.shape) for a in arrs]} for n, arrs in out],
       'x': x.numpy().ravel().tolist(), 'y': y.ravel().tolist(), 'size': size, 'params': sum(p.numel() for p in m.parameters())}
json.dump(man, open(os.path.join(outdir, 'man.json'), 'w'))
np.concatenate(blobs).tofile(os.path.join(outdir, 'w.bin'))
`;

interface Manifest {
  layers: { name: string; shapes: number[][] }[];
  x: number[];
  y: number[];
  size: number;
  params: number;
}

let dir = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'torch-parity-'));
  writeFileSync(join(dir, 'dump.py'), DUMP);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasTorch)('parity with PyTorch', () => {
  it.each([
    ['refnet', undefined, 33],
    ['mobilenet_v2', 0.35, 40],
    ['resnet18', undefined, 33],
  ] as const)('%s (width %s) at %i px matches torch feature maps', (arch, width, size) => {
    const tag = width === undefined ? arch : `${arch}:${width}`;
    execFileSync(PY, [join(dir, 'dump.py'), tag, String(size), dir], { timeout: 120_000 });
    const man = JSON.parse(readFileSync(join(dir, 'man.json'), 'utf8')) as Manifest;
    const buf = readFileSync(join(dir, 'w.bin'));
    const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const m = createModel({ arch, width, inputSize: size, classes: 2, seed: 1 });
    let off = 0;
    let set = 0;
    for (const l of man.layers) {
      const ws = l.shapes.map((s) => {
        const n = s.reduce((a, b) => a * b, 1);
        off += n;
        return tf.tensor(all.subarray(off - n, off), s);
      });
      m.getLayer(l.name).setWeights(ws);
      set += ws.length;
    }
    expect(countTrainableParams(m)).toBe(man.params);
    expect(set).toBe(m.weights.length);
    expect(off).toBe(all.length);
    const feat = tf.model({ inputs: m.inputs, outputs: m.getLayer('pool').input as tf.SymbolicTensor });
    const y = (feat.predict(tf.tensor4d(man.x, [2, size, size, 3])) as tf.Tensor).dataSync();
    expect(y.length).toBe(man.y.length);
    const scale = Math.max(...man.y.map(Math.abs));
    let maxDiff = 0;
    y.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - man.y[i]!))));
    expect(scale).toBeGreaterThan(0.1);
    expect(maxDiff / scale).toBeLessThan(1e-5);
    m.dispose();
  });
});
