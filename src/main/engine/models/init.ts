// Seeded weight initializers. Every initializer gets its own seed drawn from one stream, so a model
// built twice from the same seed has bit-identical weights (tfjs's seeded RNG is deterministic).
import * as tf from '@tensorflow/tfjs';

export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** Stands in for seed 0 (never produced otherwise: other seeds are base·1000 + i with base ≥ 1 or i ≥ 1). */
const ZERO_SEED_STANDIN = 2_654_435_761;

/** Hands out distinct, reproducible seeds to the initializers of one model, in build order. */
export class SeedStream {
  private i = 0;
  private readonly base: number;
  constructor(seed?: number) {
    // No seed: a random base, so unseeded models still differ from each other.
    this.base = seed ?? Math.floor(Math.random() * 2 ** 31);
  }
  next(): number {
    const s = this.base * 1000 + this.i++;
    // tfjs treats a seed of 0 as "no seed" (random): run seed 0, the default, would not reproduce.
    return s === 0 ? ZERO_SEED_STANDIN : s;
  }
}

/**
 * Kaiming-normal with fan_out (torchvision MobileNetV2/ResNet convs). tfjs computes fan_out of a
 * depthwise kernel [k,k,C,1] as k*k, i.e. the true per-filter fan; torch would use C*k*k there
 * (its weight shape ignores groups), which BatchNorm makes irrelevant.
 */
export function heNormalFanOut(seeds: SeedStream): Initializer {
  return tf.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'normal', seed: seeds.next() });
}

/**
 * PyTorch's default conv/linear weight init: kaiming_uniform(a=√5) = U(±1/√fan_in).
 * For a depthwise kernel tfjs's 'fanIn' would be C*k*k, so use 'fanOut' (= k*k = the true fan-in).
 */
export function torchDefaultKernel(seeds: SeedStream, depthwise = false): Initializer {
  return tf.initializers.varianceScaling({
    scale: 1 / 3,
    mode: depthwise ? 'fanOut' : 'fanIn',
    distribution: 'uniform',
    seed: seeds.next(),
  });
}

/** PyTorch's default bias init: U(±1/√fan_in). */
export function torchDefaultBias(seeds: SeedStream, fanIn: number): Initializer {
  const b = 1 / Math.sqrt(fanIn);
  return tf.initializers.randomUniform({ minval: -b, maxval: b, seed: seeds.next() });
}

/** torchvision MobileNetV2 classifier: N(0, 0.01). */
export function smallNormal(seeds: SeedStream): Initializer {
  return tf.initializers.randomNormal({ mean: 0, stddev: 0.01, seed: seeds.next() });
}
