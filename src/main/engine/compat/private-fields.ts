// Fields tfjs keeps out of its public typings that the engine reads or writes (checked for 4.22.0).
import type * as tf from '@tensorflow/tfjs';

/** tfjs optimizers read `learningRate` on every applyGradients call; it is protected only in the typings. */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

/** The Emscripten module behind tfjs-backend-wasm's backend object (its pthread pool lives there). */
export function wasmModuleOf(backend: tf.KernelBackend): unknown {
  return (backend as unknown as { wasm?: unknown }).wasm;
}
