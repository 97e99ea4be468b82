// ResNet-18 as torchvision builds it: conv7×7/2 (pad 3) + BN + ReLU + maxpool3×3/2 (pad 1), four
// stages of two BasicBlocks (64,128,256,512), 1×1/2 conv+BN shortcut where the shape changes, GAP, fc.
import * as tf from '@tensorflow/tfjs';
import { SeedStream, heNormalFanOut, torchDefaultBias, torchDefaultKernel } from './init.js';
import { act, ap, bn, pad, type Sym } from './layers.js';

export function buildResnet18(x: Sym, classes: number, seeds: SeedStream): Sym {
  x = pad(x, 3, 'stem_pad');
  x = conv(x, 64, 7, 2, 'stem_conv', seeds);
  x = act(bn(x, 'stem_bn'), 'relu', 'stem_relu');
  // Zero padding equals torch's −∞ padding here: inputs are post-ReLU (≥0) and every 3×3 window
  // holds at least one real value.
  x = pad(x, 1, 'pool_pad');
  x = ap(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'stem_pool' }), x);
  let cin = 64;
  [64, 128, 256, 512].forEach((f, s) => {
    for (let i = 0; i < 2; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      x = basicBlock(x, cin, f, stride, `layer${s + 1}_${i}`, seeds);
      cin = f;
    }
  });
  x = ap(tf.layers.globalAveragePooling2d({ name: 'pool' }), x);
  return ap(
    tf.layers.dense({
      units: classes, name: 'logits',
      kernelInitializer: torchDefaultKernel(seeds), biasInitializer: torchDefaultBias(seeds, cin),
    }),
    x,
  );
}

function conv(x: Sym, filters: number, k: number, strides: number, name: string, seeds: SeedStream, padding: 'valid' | 'same' = 'valid'): Sym {
  return ap(
    tf.layers.conv2d({
      filters, kernelSize: k, strides, padding, useBias: false, kernelInitializer: heNormalFanOut(seeds), name,
    }),
    x,
  );
}

/** 3×3 conv with torch's padding 1: 'same' is already symmetric at stride 1. */
function conv3(x: Sym, filters: number, stride: number, name: string, seeds: SeedStream): Sym {
  if (stride === 1) return conv(x, filters, 3, 1, name, seeds, 'same');
  return conv(pad(x, 1, `${name}_pad`), filters, 3, stride, name, seeds);
}

function basicBlock(x: Sym, cin: number, cout: number, stride: number, name: string, seeds: SeedStream): Sym {
  let shortcut = x;
  if (stride !== 1 || cin !== cout) {
    // 1×1 stride-2 'valid' samples rows 0,2,4,… exactly like torch's unpadded 1×1/2 conv.
    shortcut = bn(conv(x, cout, 1, stride, `${name}_down_conv`, seeds), `${name}_down_bn`);
  }
  let y = conv3(x, cout, stride, `${name}_conv1`, seeds);
  y = act(bn(y, `${name}_bn1`), 'relu', `${name}_relu1`);
  y = conv3(y, cout, 1, `${name}_conv2`, seeds);
  y = bn(y, `${name}_bn2`);
  y = ap(tf.layers.add({ name: `${name}_add` }), [y, shortcut]);
  return act(y, 'relu', `${name}_relu2`);
}
