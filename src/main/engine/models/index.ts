// Student/teacher architectures as tfjs LayersModels (so they save/load as model.json).
// Input: NHWC float32 RGB in [0,255]; normalization happens inside; output: LOGITS (no softmax).
// Structures and trainable-parameter counts match torchvision / ../shared/bench/torch_ref.py.
// Known deliberate differences from torchvision: MobileNetV2's classifier dropout (0.2 there) is
// off unless `dropout` is given, so seeded runs stay reproducible; init distributions follow
// torch's in kind but come from tfjs's seeded RNG.
import * as tf from '@tensorflow/tfjs';
import type { Arch, StudentSpec } from '../../../shared/run-config.js';
import './fast-batchnorm.js'; // patches BatchNormalization's training path (same model.json)
import './fast-relu6.js'; // relu6 activations as one kernel (same model.json)
import './fast-depthwise.js'; // depthwise conv + bias + activation as one kernel (same model.json)
import './fast-conv-relu.js'; // conv + bias + relu in training: fused forward, closed-form gradient (same model.json)
import { SeedStream } from './init.js';
import { buildMobilenetV2 } from './mobilenet-v2.js';
import { buildPretrainedStudent } from './pretrained-student.js';
import { normalizeInput } from './normalize.js';
import { buildRefnet } from './refnet.js';
import { buildResnet18 } from './resnet18.js';

export { INPUT_OFFSET, INPUT_SCALE } from './normalize.js';
export { makeDivisible } from './mobilenet-v2.js';

export interface ModelSpec {
  arch: Arch;
  /** Width multiplier; mobilenet_v2 only (default 1.0). */
  width?: number;
  /** Square input side, 32..224. */
  inputSize: number;
  classes: number;
  /** Same seed ⇒ identical initial weights. Omitted ⇒ random. */
  seed?: number;
  /** Dropout before the classifier (mobilenet_v2 only; torchvision uses 0.2). Default 0. */
  dropout?: number;
}

export const MIN_INPUT_SIZE = 32;
export const MAX_INPUT_SIZE = 224;

export function createModel(spec: ModelSpec): tf.LayersModel {
  const { arch, inputSize, classes } = spec;
  if (!Number.isInteger(inputSize) || inputSize < MIN_INPUT_SIZE || inputSize > MAX_INPUT_SIZE) {
    throw new Error(`model input size must be an integer in ${MIN_INPUT_SIZE}..${MAX_INPUT_SIZE}, got ${inputSize}`);
  }
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`model needs at least 2 classes, got ${classes}`);
  if (arch !== 'mobilenet_v2' && spec.width !== undefined && spec.width !== 1) {
    throw new Error(`arch "${arch}" has no width multiplier (got width ${spec.width})`);
  }
  const width = spec.width ?? 1;
  if (!(width > 0)) throw new Error(`width multiplier must be positive, got ${width}`);
  const seeds = new SeedStream(spec.seed);
  const input = tf.input({ shape: [inputSize, inputSize, 3], dtype: 'float32', name: 'image' });
  const x = normalizeInput(input);
  let logits: tf.SymbolicTensor;
  switch (arch) {
    case 'refnet':
      logits = buildRefnet(x, classes, seeds);
      break;
    case 'mobilenet_v2':
      logits = buildMobilenetV2(x, classes, width, spec.dropout ?? 0, seeds);
      break;
    case 'resnet18':
      logits = buildResnet18(x, classes, seeds);
      break;
    default: {
      const never: never = arch;
      throw new Error(`unknown arch "${String(never)}"`);
    }
  }
  return tf.model({ inputs: input, outputs: logits, name: modelName(arch, width) });
}

/**
 * A run's student from its spec: a built-in architecture from its seeded init, or a pretrained
 * model ("from") or a slimmed copy of one ("slim") with a new seeded head.
 */
export async function createStudent(spec: StudentSpec, classes: number, seed?: number): Promise<tf.LayersModel> {
  if ('arch' in spec) return createModel({ arch: spec.arch, width: spec.width, inputSize: spec.inputSize, classes, seed });
  return (await buildPretrainedStudent(spec, classes, seed)).model;
}

/** Trainable parameters only (PyTorch's count): BN gamma/beta yes, moving mean/variance no. */
export function countTrainableParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}

/** Benchmark net names (`mobilenet_v2_035`, `mobilenet_v2_100`, `refnet`, `resnet18`) → arch + width. */
export function parseNetName(name: string): { arch: Arch; width?: number } {
  if (name === 'refnet' || name === 'resnet18' || name === 'mobilenet_v2') return { arch: name };
  const m = /^mobilenet_v2_(\d)(\d+)$/.exec(name);
  if (m) return { arch: 'mobilenet_v2', width: Number(`${m[1]}.${m[2]}`) };
  throw new Error(`unknown net "${name}" (refnet, mobilenet_v2_035, mobilenet_v2_050, mobilenet_v2_100, resnet18)`);
}

function modelName(arch: Arch, width: number): string {
  return arch === 'mobilenet_v2' ? `mobilenet_v2_${String(Math.round(width * 100)).padStart(3, '0')}` : arch;
}
