// Registers the gradient kernels that tfjs-backend-wasm 4.22 lacks (or has only as slow scalar
// loops), so that models train on wasm. Idempotent; call after the wasm backend is imported.
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilter } from './conv2d-backprop-filter.js';
import { makeConv2DBackpropInput } from './conv2d-backprop-input.js';
import { depthwiseConv2dNativeBackpropFilter } from './depthwise-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInput } from './depthwise-backprop-input.js';

let registered = false;

export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  const original = tf.getKernel('Conv2DBackpropInput', 'wasm');
  const kernels: Array<[string, tf.KernelFunc]> = [
    ['Conv2DBackpropFilter', conv2DBackpropFilter as tf.KernelFunc],
    // Replaces tfjs's scalar C++ loop; keeps it for NCHW.
    ['Conv2DBackpropInput', makeConv2DBackpropInput(original?.kernelFunc ?? null) as tf.KernelFunc],
    ['DepthwiseConv2dNativeBackpropInput', depthwiseConv2dNativeBackpropInput as tf.KernelFunc],
    ['DepthwiseConv2dNativeBackpropFilter', depthwiseConv2dNativeBackpropFilter as tf.KernelFunc],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

/** The kernels registerWasmKernels adds or replaces (for tests and reports). */
export const WASM_GRADIENT_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
] as const;
