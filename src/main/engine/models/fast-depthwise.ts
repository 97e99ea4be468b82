// tfjs-layers' DepthwiseConv2D runs depthwise conv, bias add and activation as three kernels (three
// passes over the activations) even at inference. tf.fused.depthwiseConv2d gives the same values in
// one kernel (XNNPACK on wasm applies bias and ReLU in the conv's output loop); under a gradient
// tape tfjs itself unfuses non-linear activations, so training keeps the same ops. The layer class
// is patched in place, so models keep standard DepthwiseConv2D layers in model.json.
import * as tf from '@tensorflow/tfjs';
import { activationName, patchOnce, type ConvLayerFields, type LayerCallFn } from '../compat/index.js';

type FusedActivation = 'linear' | 'relu' | 'relu6';
const FUSABLE: ReadonlySet<string> = new Set<FusedActivation>(['linear', 'relu', 'relu6']);

type DepthwiseLayer = ConvLayerFields;
type CallFn = LayerCallFn<DepthwiseLayer>;

let originalCall: CallFn | null = null;

function isOne(d: number | number[]): boolean {
  return Array.isArray(d) ? d.every((v) => v === 1) : d === 1;
}

export function installFastDepthwise(): void {
  patchOnce('DepthwiseConv2D.call (inference)', patchDepthwise);
}

function patchDepthwise(): void {
  const probe = tf.layers.depthwiseConv2d({ kernelSize: 3 });
  const proto = Object.getPrototypeOf(probe) as { call: CallFn };
  if (typeof proto.call !== 'function') throw new Error('tfjs-layers DepthwiseConv2D has no call method');
  const original = proto.call;
  originalCall = original;
  proto.call = function fusedCall(this: DepthwiseLayer, inputs, kwargs) {
    const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0]! : null) : inputs;
    const activation = activationName(this);
    if (!x || x.rank !== 4 || !this.depthwiseKernel || this.dataFormat !== 'channelsLast' || !isOne(this.dilationRate) || !FUSABLE.has(activation)) {
      return original.call(this, inputs, kwargs);
    }
    return tf.tidy(() =>
      tf.fused.depthwiseConv2d({
        x: x as tf.Tensor4D,
        filter: this.depthwiseKernel!.read() as tf.Tensor4D,
        strides: this.strides,
        pad: this.padding === 'same' ? 'same' : 'valid',
        dataFormat: 'NHWC',
        dilations: [1, 1],
        ...(this.useBias && this.bias ? { bias: this.bias.read() } : {}),
        activation: activation as FusedActivation,
      }),
    );
  };
}

/** For tests: tfjs-layers' own call, unpatched (null before install). */
export function originalDepthwiseCall(): CallFn | null {
  return originalCall;
}

installFastDepthwise();
