// refnet: the benchmark's reference net, layer for layer `refnet` of ../shared/bench/torch_ref.py:
// conv3×3/2→32, then for 64,128,256: dw3×3/2, pw, dw3×3, pw (all with bias, ReLU); GAP; dense.
// PyTorch default init everywhere (no BatchNorm here, so the init scale matters).
import * as tf from '@tensorflow/tfjs';
import { SeedStream, torchDefaultBias, torchDefaultKernel } from './init.js';
import { ap, pad, type Sym } from './layers.js';

export function buildRefnet(x: Sym, classes: number, seeds: SeedStream): Sym {
  x = pad(x, 1, 'stem_pad');
  x = ap(
    tf.layers.conv2d({
      filters: 32, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', name: 'stem_conv',
      kernelInitializer: torchDefaultKernel(seeds), biasInitializer: torchDefaultBias(seeds, 3 * 9),
    }),
    x,
  );
  let c = 32;
  [64, 128, 256].forEach((f, s) => {
    const n = `s${s + 1}`;
    x = pad(x, 1, `${n}_pad`);
    x = dw(x, c, 2, 'valid', `${n}_dw1`, seeds);
    x = pw(x, c, f, `${n}_pw1`, seeds);
    x = dw(x, f, 1, 'same', `${n}_dw2`, seeds);
    x = pw(x, f, f, `${n}_pw2`, seeds);
    c = f;
  });
  x = ap(tf.layers.globalAveragePooling2d({ name: 'pool' }), x);
  return ap(
    tf.layers.dense({
      units: classes, name: 'logits',
      kernelInitializer: torchDefaultKernel(seeds), biasInitializer: torchDefaultBias(seeds, c),
    }),
    x,
  );
}

function dw(x: Sym, _c: number, strides: number, padding: 'valid' | 'same', name: string, seeds: SeedStream): Sym {
  return ap(
    tf.layers.depthwiseConv2d({
      kernelSize: 3, strides, padding, depthMultiplier: 1, activation: 'relu', name,
      depthwiseInitializer: torchDefaultKernel(seeds, true), biasInitializer: torchDefaultBias(seeds, 9),
    }),
    x,
  );
}

function pw(x: Sym, cin: number, f: number, name: string, seeds: SeedStream): Sym {
  return ap(
    tf.layers.conv2d({
      filters: f, kernelSize: 1, activation: 'relu', name,
      kernelInitializer: torchDefaultKernel(seeds), biasInitializer: torchDefaultBias(seeds, cin),
    }),
    x,
  );
}
