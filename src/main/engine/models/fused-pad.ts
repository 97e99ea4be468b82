// ZeroPadding2D → Conv2D / DepthwiseConv2D ('valid') in training as one convolution with explicit
// padding. The nets pad explicitly before every strided convolution (torch's sampling grid, see
// layers.ts); as layers, that is a padded copy of the activations in the forward pass and a cropped
// copy of the gradient in the backward pass, where the convolution kernels can take the padding
// themselves. So in training the pad layer returns an alias of its input tagged with its padding,
// and the convolution after it (fast-conv-relu.ts) convolves with that padding — or pads for real
// where it cannot. The pad layer does this only when every layer that reads its output is such a
// convolution; at inference it pads as usual (inference-plan.ts folds it its own way).
import * as tf from '@tensorflow/tfjs';
import { patchOnce, type ConvLayerFields, type LayerCallFn, type LayerNodeLike, type PaddingLayerFields } from '../compat/index.js';

export type SpatialPadding = [[number, number], [number, number]];

const tags = new WeakMap<tf.Tensor, SpatialPadding>();

let enabled = true;

/** For tests and benchmarks: pad layers pad for real in training too. */
export function setFusedPad(on: boolean): void {
  enabled = on;
}

/** The padding the pad layer before it left to the convolution reading `x`, or null. */
export function pendingPadding(x: tf.Tensor): SpatialPadding | null {
  return tags.get(x) ?? null;
}

/** `x` with its pending padding applied, for a consumer that cannot take it. */
export function padNow(x: tf.Tensor4D, p: SpatialPadding): tf.Tensor4D {
  return tf.pad(x, [[0, 0], p[0], p[1], [0, 0]]);
}

/** tfjs's explicit NHWC padding for a convolution. */
export function explicitPadding(p: SpatialPadding): [[number, number], [number, number], [number, number], [number, number]] {
  return [[0, 0], [p[0][0], p[0][1]], [p[1][0], p[1][1]], [0, 0]];
}

type PaddingLayer = PaddingLayerFields & tf.layers.Layer & { outboundNodes?: LayerNodeLike[] };

function takesPadding(l: tf.layers.Layer, p: SpatialPadding): boolean {
  const cls = l.getClassName();
  if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D') return false;
  const c = l as unknown as ConvLayerFields;
  const dilationOne = Array.isArray(c.dilationRate) ? c.dilationRate.every((d) => d === 1) : c.dilationRate === 1;
  // Depthwise only symmetric, as the inference plan folds it.
  const symmetric = p[0][0] === p[0][1] && p[1][0] === p[1][1] && p[0][0] === p[1][0];
  return c.padding === 'valid' && c.dataFormat === 'channelsLast' && dilationOne && (cls === 'Conv2D' || symmetric);
}

function everyConsumerTakesPadding(layer: PaddingLayer): boolean {
  const nodes = layer.outboundNodes ?? [];
  return nodes.length > 0 && nodes.every((n) => takesPadding(n.outboundLayer, layer.padding));
}

export function installFusedPad(): void {
  patchOnce('ZeroPadding2D.call (training)', () => {
    const proto = Object.getPrototypeOf(tf.layers.zeroPadding2d({ padding: 1 })) as { call: LayerCallFn<PaddingLayer> };
    const original = proto.call;
    proto.call = function padCall(this: PaddingLayer, inputs, kwargs) {
      const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0]! : null) : inputs;
      const fuse = enabled && kwargs?.['training'] === true && x?.rank === 4 && this.dataFormat === 'channelsLast' && everyConsumerTakesPadding(this);
      if (!fuse) return original.call(this, inputs, kwargs);
      // A distinct tensor (an alias: Identity copies nothing on wasm) so the tag is this layer's.
      const y = tf.clone(x!);
      tags.set(y, [[this.padding[0][0], this.padding[0][1]], [this.padding[1][0], this.padding[1][1]]]);
      return y;
    };
  });
}
