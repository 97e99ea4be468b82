// A tiny MobileNet v1 look-alike (same layer kinds and names as the TF.js MobileNet v1 checkpoints:
// conv1, conv_dw_k/conv_pw_k with BatchNorm and ReLU6, global pooling, a 1×1-conv ImageNet-style head
// ending in softmax) with random BatchNorm statistics, written as a TF.js layers model folder. Tests
// use it as the pretrained source so they need nothing outside the repository.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { saveModelDir } from '../../src/main/engine/model-io.js';

export const TINY_SIZE = 48;
/** Output channels of conv1, conv_pw_1, conv_pw_2. */
export const TINY_CHANNELS = [8, 16, 32] as const;

export async function writeTinyBackbone(seed = 7): Promise<string> {
  const init = (i: number) => tf.initializers.glorotNormal({ seed: seed * 100 + i });
  let k = 0;
  const input = tf.input({ shape: [TINY_SIZE, TINY_SIZE, 3], name: 'input_1' });
  const bnAct = (x: tf.SymbolicTensor, name: string) => {
    const b = tf.layers.batchNormalization({ name: `${name}_bn`, epsilon: 1e-3, momentum: 0.99 }).apply(x) as tf.SymbolicTensor;
    return tf.layers.activation({ activation: 'relu6', name: `${name}_relu` }).apply(b) as tf.SymbolicTensor;
  };
  let x = tf.layers.conv2d({ filters: TINY_CHANNELS[0], kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv1', kernelInitializer: init(k++) }).apply(input) as tf.SymbolicTensor;
  x = bnAct(x, 'conv1');
  for (let b = 1; b <= 2; b++) {
    x = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: b === 2 ? 2 : 1, padding: 'same', useBias: false, name: `conv_dw_${b}`, depthwiseInitializer: init(k++) }).apply(x) as tf.SymbolicTensor;
    x = bnAct(x, `conv_dw_${b}`);
    x = tf.layers.conv2d({ filters: TINY_CHANNELS[b]!, kernelSize: 1, padding: 'same', useBias: false, name: `conv_pw_${b}`, kernelInitializer: init(k++) }).apply(x) as tf.SymbolicTensor;
    x = bnAct(x, `conv_pw_${b}`);
  }
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d_1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [1, 1, TINY_CHANNELS[2]], name: 'reshape_1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: 0.001, name: 'dropout' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 10, kernelSize: 1, name: 'conv_preds', kernelInitializer: init(k++) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'softmax', name: 'act_softmax' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [10], name: 'reshape_2' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x });
  // Distinct BatchNorm scales, shifts and statistics, so channel choice and copies are observable.
  let s = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const c = layer.getWeights()[0]!.shape[0]!;
    const w = [
      tf.randomUniform([c], 0.1, 2, 'float32', s++),
      tf.randomNormal([c], 0, 0.5, 'float32', s++),
      tf.randomNormal([c], 0, 0.3, 'float32', s++),
      tf.randomUniform([c], 0.5, 1.5, 'float32', s++),
    ];
    layer.setWeights(w);
    tf.dispose(w);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiny-backbone-'));
  await saveModelDir(model, dir);
  model.dispose();
  return path.join(dir, 'model.json');
}
