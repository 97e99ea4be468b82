// The feature tap: a classifier's pooled features (the input of its final Dense layer) alongside its
// output, as one model sharing the classifier's layers and weights. Feature-based distillation
// (feature regression here; FitNets, RKD, AT) reads features through this one place.
import * as tf from '@tensorflow/tfjs';

export interface FeatureTap {
  /** outputs: [features [N, featureDim], the classifier's own output]. Shares weights; never dispose it. */
  model: tf.LayersModel;
  featureDim: number;
  /** Name of the Dense layer whose input is tapped. */
  head: string;
}

/** Null when the model has no Dense head fed by a single 2-D tensor. */
export function featureTap(model: tf.LayersModel): FeatureTap | null {
  const dense = [...model.layers].reverse().find((l) => l.getClassName() === 'Dense');
  if (!dense || dense.inboundNodes.length !== 1) return null;
  const input = dense.input;
  if (Array.isArray(input) || input.rank !== 2) return null;
  const featureDim = input.shape[1];
  if (typeof featureDim !== 'number') return null;
  const tap = tf.model({ inputs: model.inputs, outputs: [input, model.outputs[0]!], name: `${model.name}_tap` });
  return { model: tap, featureDim, head: dense.name };
}

export function requireFeatureTap(model: tf.LayersModel, what: string): FeatureTap {
  const tap = featureTap(model);
  if (!tap) throw new Error(`${what} has no Dense head on pooled features, so its features cannot be tapped`);
  return tap;
}
