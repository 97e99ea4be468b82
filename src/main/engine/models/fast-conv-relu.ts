// Conv + bias + ReLU layers (refnet's) in training as one fused forward kernel with a closed-form
// gradient. Under a gradient tape tfjs unfuses non-linear activations: conv, then a bias Add and a
// Relu pass over the activations (~15% of a refnet step on wasm). Here the forward is the fused
// kernel (XNNPACK applies bias and ReLU in the conv's output loop) and the backward reads the mask
// from the output (y > 0 exactly where conv + bias > 0): dz = dy·[y > 0] in one pass
// (wasm-kernels/relu-grad.ts), then the conv's two gradient kernels and Σdz for the bias.
// A convolution whose input needs no gradient (the stem: models/input-gradient.ts) takes the same
// path, relu or linear, without its input gradient.
// A ZeroPadding2D before the convolution leaves its padding to it (fused-pad.ts): the convolution
// takes it as explicit padding, or pads for real where it runs tfjs-layers' own path.
// Conv2D and DepthwiseConv2D are patched in place (training path only), so model.json is unchanged.
import * as tf from '@tensorflow/tfjs';
import { reluGrad } from '../wasm-kernels/relu-grad.js';
import { activationName, patchOnce, type ConvLayerFields, type LayerCallFn } from '../compat/index.js';
import { explicitPadding, installFusedPad, padNow, pendingPadding } from './fused-pad.js';
import { inputNeedsGradient } from './input-gradient.js';
// Installed first, whoever imports this module first: this patch wraps its inference path.
import './fast-depthwise.js';

export type ConvPad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

export interface ConvGeometry {
  depthwise: boolean;
  strides: [number, number];
  pad: ConvPad;
}

/** relu(conv(x, filter) + bias), NHWC, dilation 1, with gradients for x, filter and bias. */
export function convBiasRelu(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, g: ConvGeometry): tf.Tensor4D {
  return trainingConv(x, filter, bias, 'relu', g, true);
}

/**
 * act(conv(x, filter) + bias) for training, NHWC, dilation 1: the fused kernel forward, and in the
 * backward the filter's and bias's gradients, and x's only when `inputGrad` (x is then not an input
 * of the op at all, so the tape asks nothing for it).
 */
export function trainingConv(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  activation: 'relu' | 'linear',
  g: ConvGeometry,
  inputGrad: boolean,
): tf.Tensor4D {
  const common = { strides: g.strides, pad: g.pad, dataFormat: 'NHWC', dilations: [1, 1] };
  const kernels = g.depthwise
    ? { forward: 'FusedDepthwiseConv2D', input: 'DepthwiseConv2dNativeBackpropInput', filter: 'DepthwiseConv2dNativeBackpropFilter' }
    : { forward: 'FusedConv2D', input: 'Conv2DBackpropInput', filter: 'Conv2DBackpropFilter' };
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const ins = args as tf.Tensor[];
    const xi = (inputGrad ? ins.shift() : x) as tf.Tensor4D;
    const [fi, bi] = ins as [tf.Tensor4D, tf.Tensor1D | undefined];
    // The kernel directly: the op (tf.fused.*) would unfuse under the tape.
    const y = tf.engine().runKernel(kernels.forward, { x: xi, filter: fi, ...(bi ? { bias: bi } : {}) }, { ...common, activation }) as tf.Tensor4D;
    save([xi, fi, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sf, sy] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        // relu: the mask from the output (y > 0 exactly where conv + bias > 0), in one pass.
        const dz = activation === 'relu' ? reluGrad(dy, sy, Infinity) : dy;
        const grads: tf.Tensor[] = [];
        if (inputGrad) grads.push(tf.engine().runKernel(kernels.input, { dy: dz, filter: sf }, { ...common, inputShape: sx.shape }) as tf.Tensor);
        grads.push(tf.engine().runKernel(kernels.filter, { x: sx, dy: dz }, { ...common, filterShape: sf.shape }) as tf.Tensor);
        if (bias) grads.push(tf.sum(dz, [0, 1, 2]));
        return grads;
      },
    };
  });
  const inputs = [...(inputGrad ? [x] : []), filter, ...(bias ? [bias] : [])];
  return op(...inputs) as tf.Tensor4D;
}

type ConvLayer = ConvLayerFields;
type CallFn = LayerCallFn<ConvLayer>;

let enabled = true;

/** For tests and benchmarks: route training calls back to tfjs-layers' path (or not). */
export function setFastConvRelu(on: boolean): void {
  enabled = on;
}

function patch(proto: { call: CallFn }, depthwise: boolean): void {
  const original = proto.call;
  proto.call = function convCall(this: ConvLayer, inputs, kwargs) {
    const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0]! : null) : inputs;
    const pending = x ? pendingPadding(x) : null;
    const kernel = depthwise ? this.depthwiseKernel : this.kernel;
    const dilationOne = Array.isArray(this.dilationRate) ? this.dilationRate.every((d) => d === 1) : this.dilationRate === 1;
    const usable =
      enabled &&
      kwargs?.['training'] === true &&
      x?.rank === 4 &&
      x.dtype === 'float32' &&
      (depthwise || this.rank === 2) &&
      kernel &&
      (!this.useBias || this.bias) &&
      this.dataFormat === 'channelsLast' &&
      dilationOne;
    // tfjs-layers' own path, on the padded input where the pad layer left its padding to us.
    const theirs = () => (pending ? tf.tidy(() => original.call(this, padNow(x as tf.Tensor4D, pending), kwargs)) : original.call(this, inputs, kwargs));
    if (!usable) return theirs();
    const activation = activationName(this);
    const inputGrad = inputNeedsGradient(this as unknown as tf.layers.Layer);
    const pad: ConvPad = pending ? explicitPadding(pending) : this.padding === 'same' ? 'same' : 'valid';
    // Ours: conv + bias + relu (fused forward, closed-form gradient), and any linear or relu
    // convolution whose input needs no gradient (the stem).
    const fits = (activation === 'relu' && this.useBias) || (!inputGrad && (activation === 'linear' || activation === 'relu'));
    if (fits) {
      return tf.tidy(() =>
        trainingConv(
          x as tf.Tensor4D,
          kernel!.read() as tf.Tensor4D,
          this.useBias ? (this.bias!.read() as tf.Tensor1D) : null,
          activation as 'relu' | 'linear',
          { depthwise, strides: this.strides, pad },
          inputGrad,
        ),
      );
    }
    // A linear convolution without bias (a BatchNorm follows) on a padding left to it: tfjs's op
    // with that padding, and tfjs's gradients.
    if (pending && activation === 'linear' && !this.useBias) {
      return tf.tidy(() =>
        depthwise
          ? tf.depthwiseConv2d(x as tf.Tensor4D, kernel!.read() as tf.Tensor4D, this.strides, pad)
          : tf.conv2d(x as tf.Tensor4D, kernel!.read() as tf.Tensor4D, this.strides, pad),
      );
    }
    // The rest: tfjs-layers' own path.
    return theirs();
  };
}

/** Patches Conv2D and DepthwiseConv2D (after fast-depthwise.ts, whose inference path it wraps). */
export function installFastConvRelu(): void {
  patchOnce('Conv2D+DepthwiseConv2D.call (training)', () => {
    patch(Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })) as { call: CallFn }, false);
    patch(Object.getPrototypeOf(tf.layers.depthwiseConv2d({ kernelSize: 3 })) as { call: CallFn }, true);
  });
}

installFastConvRelu();
installFusedPad();
