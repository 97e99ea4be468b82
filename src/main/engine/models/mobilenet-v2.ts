// MobileNetV2 as torchvision builds it (torchvision/models/mobilenetv2.py): channels rounded by
// _make_divisible(·, 8), last channel 1280 kept for width<1, ReLU6, BN, inverted residuals with a
// skip when stride 1 and in==out, linear bottleneck, GAP, (dropout), linear classifier.
import * as tf from '@tensorflow/tfjs';
import { SeedStream, heNormalFanOut, smallNormal } from './init.js';
import { act, ap, bn, pad, type Sym } from './layers.js';

/** torchvision's _make_divisible: round to the nearest multiple of 8, never dropping below 90%. */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** [expansion t, channels c, repeats n, first stride s] */
const SETTING: ReadonlyArray<readonly [number, number, number, number]> = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export function buildMobilenetV2(x: Sym, classes: number, width: number, dropout: number, seeds: SeedStream): Sym {
  let cin = makeDivisible(32 * width);
  const last = makeDivisible(1280 * Math.max(1, width));
  x = convBnAct(x, cin, 3, 2, 'stem', seeds);
  let b = 0;
  for (const [t, c, n, s] of SETTING) {
    const cout = makeDivisible(c * width);
    for (let i = 0; i < n; i++) {
      x = invertedResidual(x, cin, cout, i === 0 ? s : 1, t, `b${b++}`, seeds);
      cin = cout;
    }
  }
  x = convBnAct(x, last, 1, 1, 'head', seeds);
  x = ap(tf.layers.globalAveragePooling2d({ name: 'pool' }), x);
  // Off by default (see index.ts): tfjs dropout is either unseeded or repeats one mask every step.
  if (dropout > 0) x = ap(tf.layers.dropout({ rate: dropout, name: 'dropout' }), x);
  return ap(
    tf.layers.dense({ units: classes, name: 'logits', kernelInitializer: smallNormal(seeds), biasInitializer: 'zeros' }),
    x,
  );
}

function convBnAct(x: Sym, filters: number, k: number, strides: number, name: string, seeds: SeedStream): Sym {
  const p = (k - 1) / 2;
  if (strides > 1 && p > 0) x = pad(x, p, `${name}_pad`);
  x = ap(
    tf.layers.conv2d({
      filters, kernelSize: k, strides, padding: strides > 1 ? 'valid' : 'same', useBias: false,
      kernelInitializer: heNormalFanOut(seeds), name: `${name}_conv`,
    }),
    x,
  );
  return act(bn(x, `${name}_bn`), 'relu6', `${name}_relu`);
}

function invertedResidual(x: Sym, cin: number, cout: number, stride: number, t: number, name: string, seeds: SeedStream): Sym {
  const input = x;
  const hidden = Math.round(cin * t);
  if (t !== 1) x = convBnAct(x, hidden, 1, 1, `${name}_expand`, seeds);
  if (stride > 1) x = pad(x, 1, `${name}_pad`);
  x = ap(
    tf.layers.depthwiseConv2d({
      kernelSize: 3, strides: stride, padding: stride > 1 ? 'valid' : 'same', useBias: false,
      depthwiseInitializer: heNormalFanOut(seeds), name: `${name}_dw`,
    }),
    x,
  );
  x = act(bn(x, `${name}_dw_bn`), 'relu6', `${name}_dw_relu`);
  x = ap(
    tf.layers.conv2d({
      filters: cout, kernelSize: 1, useBias: false, kernelInitializer: heNormalFanOut(seeds), name: `${name}_project`,
    }),
    x,
  );
  x = bn(x, `${name}_project_bn`);
  if (stride === 1 && cin === cout) x = ap(tf.layers.add({ name: `${name}_add` }), [input, x]);
  return x;
}
