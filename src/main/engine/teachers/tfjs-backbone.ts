// A TF.js layers model (bundled or any model.json) cut at a feature layer: the layer named, or by
// default the last global pooling layer; a spatial output is global-average-pooled. Frozen: used only
// for inference. Also builds the single teacher model = backbone up to the features + a trained head.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModelDir, readModelJson } from '../model-io.js';
import { checkedFoldedForward } from '../models/inference-plan.js';
import type { Backbone } from './backbone.js';
import { applyPreprocessing, type Preprocessing } from './preprocessing.js';

const POOLING_LAYERS = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D']);

export interface TfjsBackboneOptions {
  /** Shown in messages and stored with the teacher (a bundled name or the file's path). */
  name: string;
  modelJson: string;
  preprocessing: Preprocessing;
  featureLayer?: string;
}

export interface TfjsBackbone extends Backbone {
  /** The loaded model and the symbolic pooled features (for building the teacher model). */
  readonly model: tf.LayersModel;
  readonly pooled: tf.SymbolicTensor;
}

function weightsDigest(modelJson: string): string {
  const mj = readModelJson(modelJson);
  const h = createHash('sha1');
  h.update(JSON.stringify(mj.modelTopology));
  for (const g of mj.weightsManifest) for (const p of g.paths) h.update(fs.readFileSync(path.join(mj.dir, p)));
  return h.digest('hex');
}

function pickFeatureLayer(model: tf.LayersModel, file: string, wanted: string | undefined): tf.layers.Layer {
  if (wanted) {
    const layer = model.layers.find((l) => l.name === wanted);
    if (!layer) {
      const names = model.layers.map((l) => l.name);
      throw new Error(`${file}: feature layer "${wanted}" not found (the model's last layers: ${names.slice(-8).join(', ')})`);
    }
    return layer;
  }
  const pools = model.layers.filter((l) => POOLING_LAYERS.has(l.getClassName()));
  const last = pools[pools.length - 1];
  if (!last) throw new Error(`${file}: the model has no global pooling layer; name the feature layer with --feature-layer`);
  return last;
}

export async function loadTfjsBackbone(o: TfjsBackboneOptions): Promise<TfjsBackbone> {
  const file = o.modelJson.endsWith('.json') ? o.modelJson : path.join(o.modelJson, 'model.json');
  if (!fs.existsSync(file)) throw new Error(`${file}: no such model file`);
  const model = await loadModelDir(file);
  const shape = model.inputs[0]?.shape ?? [];
  if (model.inputs.length !== 1 || shape.length !== 4 || shape[3] !== 3 || shape[1] == null || shape[1] !== shape[2]) {
    model.dispose();
    throw new Error(`${file}: a backbone needs one square RGB input [null, S, S, 3], the model has ${JSON.stringify(shape)}`);
  }
  let layer: tf.layers.Layer;
  try {
    layer = pickFeatureLayer(model, file, o.featureLayer);
  } catch (err) {
    model.dispose();
    throw err;
  }
  const out = layer.output;
  if (Array.isArray(out)) {
    model.dispose();
    throw new Error(`${file}: feature layer "${layer.name}" has several outputs`);
  }
  let pooled: tf.SymbolicTensor;
  if (out.shape.length === 4) pooled = tf.layers.globalAveragePooling2d({ name: 'distill_feature_pool' }).apply(out) as tf.SymbolicTensor;
  else if (out.shape.length === 2) pooled = out;
  else {
    model.dispose();
    throw new Error(`${file}: feature layer "${layer.name}" outputs shape ${JSON.stringify(out.shape)}; need [N, H, W, C] or [N, D]`);
  }
  const featureDim = pooled.shape[1] as number;
  const featureModel = tf.model({ inputs: model.inputs, outputs: pooled });
  // BatchNorm folded into the convs, padding and activations fused (checked against predict once).
  const forward = checkedFoldedForward(featureModel);
  const inputSize = shape[1];
  const id = createHash('sha1')
    .update(weightsDigest(file))
    .update(`\0${layer.name}\0${JSON.stringify(o.preprocessing)}`)
    .digest('hex');
  return {
    name: o.name,
    id,
    inputSize,
    featureDim,
    featureLayer: layer.name,
    preprocessing: o.preprocessing,
    model,
    pooled,
    async features(x) {
      const y = tf.tidy(() => forward(applyPreprocessing(x, o.preprocessing)) as tf.Tensor2D);
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    dispose() {
      model.dispose();
    },
  };
}
