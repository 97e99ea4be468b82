// The adapter of feature distillation: linear (no bias) + BatchNorm from the student's feature size to
// the teacher's. It trains with the student and is never part of the student: checkpoints keep it in
// files of its own (for resume) and exports never see it.
import * as tf from '@tensorflow/tfjs';
import { SeedStream } from '../models/init.js';

export interface FeatureAdapter {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
}

export function createAdapterModel(studentDim: number, teacherDim: number, seed: number): tf.LayersModel {
  const seeds = new SeedStream(seed);
  const input = tf.input({ shape: [studentDim], name: 'student_features' });
  const linear = tf.layers
    .dense({ units: teacherDim, useBias: false, name: 'adapter_linear', kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }) })
    .apply(input) as tf.SymbolicTensor;
  const out = tf.layers.batchNormalization({ name: 'adapter_bn', momentum: 0.9, epsilon: 1e-5 }).apply(linear) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'feature_adapter' });
}
