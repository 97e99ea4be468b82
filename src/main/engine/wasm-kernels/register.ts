// Registers the gradient kernels that tfjs-backend-wasm 4.22 lacks (or has only as slow scalar
// loops), so that models train on wasm. Idempotent; call after the wasm backend is imported.
import * as tf from '@tensorflow/tfjs';
import { patchOnce } from '../compat/index.js';
import { conv2DBackpropFilter } from './conv2d-backprop-filter.js';
import { makeConv2DBackpropInput } from './conv2d-backprop-input.js';
import { makeConv2D } from './conv2d-forward.js';
import { makeDepthwiseConv2D } from './depthwise-conv2d.js';
import { depthwiseConv2dNativeBackpropFilter } from './depthwise-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInput } from './depthwise-backprop-input.js';
import { makeCast, makeIdentity, makePad, makeSlice } from './copy.js';
import { type BinaryOp, makeBinary, makeTile, makeUnary } from './elementwise.js';
import { makeFusedBatchNorm } from './batch-norm.js';
import { ADAM_KERNEL, adamStep } from './fast-adam.js';
import { registerReductionGradients } from './gradients.js';
import { maxPoolGrad } from './max-pool-grad.js';
import { MOVING_AVERAGE_KERNEL, movingAverageKernel } from './moving-average.js';
import { makeReduce } from './reduce.js';
import { RELU_GRAD_KERNEL, registerReluGradients, reluGradKernel } from './relu-grad.js';

export function registerWasmKernels(): void {
  // The kernels read tfjs-backend-wasm's heap and tensor ids: the compat guard checks the version.
  patchOnce('wasm gradient kernels', registerAll);
}

function registerAll(): void {
  const original = tf.getKernel('Conv2DBackpropInput', 'wasm');
  const orig = (name: string): tf.KernelConfig => {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`tfjs-backend-wasm is not loaded (no ${name} kernel)`);
    return k;
  };
  const [sum, mean, identity, cast, slice, pad] = ['Sum', 'Mean', 'Identity', 'Cast', 'Slice', 'PadV2'].map(orig) as [
    tf.KernelConfig, tf.KernelConfig, tf.KernelConfig, tf.KernelConfig, tf.KernelConfig, tf.KernelConfig,
  ];
  const [relu, relu6, step, tile] = ['Relu', 'Relu6', 'Step', 'Tile'].map(orig) as [tf.KernelConfig, tf.KernelConfig, tf.KernelConfig, tf.KernelConfig];
  const binaries: Array<[string, BinaryOp]> = [
    ['Add', 'add'], ['Sub', 'sub'], ['Multiply', 'mul'], ['Minimum', 'min'], ['Maximum', 'max'],
    ['Greater', 'greater'], ['GreaterEqual', 'greaterEqual'], ['Less', 'less'], ['LessEqual', 'lessEqual'],
  ];
  // A replaced kernel keeps the original's setupFunc: if the backend initialises after this call,
  // the original (our fallback) still gets its WASM exports bound.
  const kernels: Array<[string, tf.KernelFunc, tf.KernelSetupFunc?]> = [
    ['Conv2DBackpropFilter', conv2DBackpropFilter as tf.KernelFunc],
    // 3×3 stride-1 convolutions by Winograd where it pays; the rest stays XNNPACK's.
    ['Conv2D', makeConv2D(orig('Conv2D').kernelFunc) as tf.KernelFunc, orig('Conv2D').setupFunc],
    ['FusedConv2D', makeConv2D(orig('FusedConv2D').kernelFunc) as tf.KernelFunc, orig('FusedConv2D').setupFunc],
    // 3×3 depthwise convolutions on SIMD (depthwise-conv2d.ts); the rest stays XNNPACK's.
    ['DepthwiseConv2dNative', makeDepthwiseConv2D(orig('DepthwiseConv2dNative').kernelFunc) as tf.KernelFunc, orig('DepthwiseConv2dNative').setupFunc],
    ['FusedDepthwiseConv2D', makeDepthwiseConv2D(orig('FusedDepthwiseConv2D').kernelFunc) as tf.KernelFunc, orig('FusedDepthwiseConv2D').setupFunc],
    // Replaces tfjs's scalar C++ loop; keeps it for NCHW.
    ['Conv2DBackpropInput', makeConv2DBackpropInput(original?.kernelFunc ?? null) as tf.KernelFunc, original?.setupFunc],
    ['DepthwiseConv2dNativeBackpropInput', depthwiseConv2dNativeBackpropInput as tf.KernelFunc],
    ['DepthwiseConv2dNativeBackpropFilter', depthwiseConv2dNativeBackpropFilter as tf.KernelFunc],
    // Reductions over contiguous axes without tfjs's transpose-first copy; others go to tfjs's.
    ['Sum', makeReduce('Sum', sum.kernelFunc) as tf.KernelFunc, sum.setupFunc],
    ['Mean', makeReduce('Mean', mean.kernelFunc) as tf.KernelFunc, mean.setupFunc],
    // Copies: aliasing or bulk moves instead of element loops.
    ['Identity', makeIdentity(identity.kernelFunc) as tf.KernelFunc, identity.setupFunc],
    ['Cast', makeCast(cast.kernelFunc) as tf.KernelFunc, cast.setupFunc],
    ['Slice', makeSlice(slice.kernelFunc) as tf.KernelFunc, slice.setupFunc],
    ['PadV2', makePad(pad.kernelFunc) as tf.KernelFunc, pad.setupFunc],
    // Elementwise on SIMD and all threads; other cases go to tfjs's.
    ...binaries.map(([name, op]): [string, tf.KernelFunc, tf.KernelSetupFunc?] => {
      const o = orig(name);
      return [name, makeBinary(op, o.kernelFunc) as tf.KernelFunc, o.setupFunc];
    }),
    ['Tile', makeTile(tile.kernelFunc) as tf.KernelFunc, tile.setupFunc],
    ['Relu', makeUnary('relu', relu.kernelFunc) as tf.KernelFunc, relu.setupFunc],
    ['Relu6', makeUnary('relu6', relu6.kernelFunc) as tf.KernelFunc, relu6.setupFunc],
    ['Step', makeUnary('step', step.kernelFunc) as tf.KernelFunc, step.setupFunc],
    // One-pass Relu / Relu6 gradient (relu-grad.ts).
    [RELU_GRAD_KERNEL, reluGradKernel as unknown as tf.KernelFunc],
    ['FusedBatchNorm', makeFusedBatchNorm(orig('FusedBatchNorm').kernelFunc) as tf.KernelFunc, orig('FusedBatchNorm').setupFunc],
    // BatchNorm's two moving statistics in one op (moving-average.ts).
    [MOVING_AVERAGE_KERNEL, movingAverageKernel as unknown as tf.KernelFunc],
    // Fused Adam update (fast-adam.ts).
    [ADAM_KERNEL, adamStep as unknown as tf.KernelFunc],
    // tfjs's routes gradients wrongly (see max-pool-grad.ts).
    ['MaxPoolGrad', maxPoolGrad as tf.KernelFunc],
  ];
  for (const [kernelName, kernelFunc, setupFunc] of kernels) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc, ...(setupFunc ? { setupFunc } : {}) });
  }
  registerReductionGradients();
  registerReluGradients();
}

/** The kernels registerWasmKernels adds or replaces (for tests and reports). */
export const WASM_GRADIENT_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2D',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'Sum',
  'Mean',
  'Identity',
  'Cast',
  'Slice',
  'PadV2',
  'MaxPoolGrad',
  'FusedBatchNorm',
  'Add',
  'Sub',
  'Multiply',
  'Minimum',
  'Maximum',
  'Greater',
  'GreaterEqual',
  'Less',
  'LessEqual',
  'Tile',
  'Relu',
  'Relu6',
  'Step',
] as const;
