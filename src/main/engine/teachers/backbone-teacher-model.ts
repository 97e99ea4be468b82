// The one model a backbone teacher is saved as: the TF.js backbone up to its pooled features, then
// the trained head as standard Dense layers. A normal layers model.json, so mining, the soft-label
// cache, eval and export load it like any other teacher; its input contract goes to distill-teacher.json.
import * as tf from '@tensorflow/tfjs';
import type { TrainedHead } from './feature-head.js';
import type { TfjsBackbone } from './tfjs-backbone.js';

export function buildBackboneTeacherModel(backbone: TfjsBackbone, head: TrainedHead): tf.LayersModel {
  let y = backbone.pooled;
  const dense: tf.layers.Layer[] = [];
  head.layers.forEach((l, i) => {
    const last = i === head.layers.length - 1;
    const layer = tf.layers.dense({ units: l.outDim, activation: last ? 'linear' : 'relu', name: last ? 'distill_head_logits' : `distill_head_hidden${i}` });
    y = layer.apply(y) as tf.SymbolicTensor;
    dense.push(layer);
  });
  const model = tf.model({ inputs: backbone.model.inputs, outputs: y, name: 'distill_backbone_teacher' });
  head.layers.forEach((l, i) => {
    dense[i]!.setWeights([tf.tensor2d(l.kernel, [l.inDim, l.outDim]), tf.tensor1d(l.bias)]);
  });
  return model;
}
