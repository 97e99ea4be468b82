// A frozen pretrained image model cut at a feature layer: what a backbone teacher's head is trained on.
// Implementations: TF.js layers models (bundled or a model.json, tfjs-backbone.ts) and ONNX models.
// The engine computes features once per image and view and caches them (feature-cache.ts), so a
// backbone only has to map a batch of pixels to pooled features.
import type * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from './preprocessing.js';

export interface Backbone {
  /** Bundled name (`mobilenet_v1_075`) or the model file's path. */
  name: string;
  /** Identity of the weights, the feature layer and the preprocessing: the feature cache's key part. */
  id: string;
  /** Side S of the square input [N, S, S, 3]. */
  inputSize: number;
  /** Length of one image's feature vector. */
  featureDim: number;
  /** The layer whose output (global-average-pooled if spatial) is the feature vector. */
  featureLayer: string;
  /** What the model expects; `features` applies it itself. */
  preprocessing: Preprocessing;
  /**
   * Pooled features of a batch: x is RGB in [0,255], NHWC [N, S, S, 3] at `inputSize`; the result is
   * row-major [N, featureDim]. x stays owned by the caller.
   */
  features(x: tf.Tensor4D): Promise<Float32Array>;
  dispose(): void;
}
