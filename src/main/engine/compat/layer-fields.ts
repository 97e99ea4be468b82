// The internal fields of tfjs-layers' layer classes that our patches and the inference planner read
// (tfjs-layers 4.22 does not export these types). One place, so a tfjs upgrade is checked once.
import type * as tf from '@tensorflow/tfjs';

export interface LayerVariableLike {
  read(): tf.Tensor;
}

/** Conv2D and DepthwiseConv2D (BaseConv). */
export interface ConvLayerFields {
  kernel?: LayerVariableLike | null;
  depthwiseKernel?: LayerVariableLike | null;
  bias?: LayerVariableLike | null;
  useBias: boolean;
  /** Spatial rank (2 for Conv2D). */
  rank?: number;
  strides: [number, number];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
  activation?: { getClassName(): string } | null;
}

/** ZeroPadding2D: [[top, bottom], [left, right]]. */
export interface PaddingLayerFields {
  padding: [[number, number], [number, number]];
  dataFormat: string;
}

/** A node of the layer graph: the call of `outboundLayer` on the outputs of `inboundLayers`. */
export interface LayerNodeLike {
  inboundLayers: tf.layers.Layer[];
  outboundLayer: tf.layers.Layer;
}

/** BatchNormalization at inference. */
export interface BatchNormLayerFields {
  axis: number;
  epsilon: number;
  scale: boolean;
  center: boolean;
  gamma?: LayerVariableLike | null;
  beta?: LayerVariableLike | null;
  movingMean: LayerVariableLike;
  movingVariance: LayerVariableLike;
}

/** A layer's `call`, as the patches replace it. */
export type LayerCallFn<L> = (this: L, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** The name of a layer's activation ('linear' when it has none). */
export function activationName(l: { activation?: { getClassName(): string } | null }): string {
  return l.activation ? l.activation.getClassName() : 'linear';
}
