// Fast BatchNormalization in training mode. tfjs-layers normalises with tf.moments + tf.batchNorm,
// whose gradients (FusedBatchNorm_grad tiles 1/sqrt(var) to the activation's shape, then ~9
// full-size broadcasting ops, plus the moments' own gradients) made BN ~70% of a training step on
// wasm. Here one op computes the batch statistics and the output, and its gradient is the closed
// form: dβ = Σdy, dγ = Σdy·x̂, dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)).
// The layer class is patched in place (training path only), so models keep standard
// BatchNormalization layers in model.json.
import * as tf from '@tensorflow/tfjs';
import { patchOnce } from '../compat/index.js';
import { channelAffine, channelSums } from '../wasm-kernels/channel-ops.js';
import { MOVING_AVERAGE_KERNEL } from '../wasm-kernels/moving-average.js';
import { asWasm, f32, sizeOf, type WasmBackend } from '../wasm-kernels/util.js';

export interface BatchNormTrainingResult {
  y: tf.Tensor;
  /** Batch mean and biased variance per channel (what tf.moments gives); not on the gradient tape. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * `loops`: per-channel accumulators over the raw data (two passes forward, two backward; in place
 * on the wasm heap); works on every backend and measured fastest on cpu and wasm (the wasm
 * elementwise kernels, even SIMD ones, need ~8 full-size passes for the same work).
 * `ops`: the same formulas as tf ops, for backends where reading data back is costly (tensorflow,
 * webgl).
 */
export type BatchNormImpl = 'loops' | 'ops';

/**
 * y = γ·(x − mean)/sqrt(var + eps) + β over all axes but the last (NHWC: [0,1,2]), with
 * gradients for x, γ and β. The caller owns `mean` and `variance` (dispose them).
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor | null,
  beta: tf.Tensor | null,
  epsilon: number,
  impl: BatchNormImpl = defaultImpl(),
): BatchNormTrainingResult {
  if (x.dtype !== 'float32') throw new Error(`batchNormTraining needs float32 input, got ${x.dtype}`);
  if (x.rank < 2) throw new Error(`batchNormTraining needs rank ≥ 2, got shape [${x.shape.join(',')}]`);
  const channels = x.shape[x.rank - 1]!;
  let stats: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null = null;
  // customGrad needs tensors for every input: absent γ/β are constants whose gradients are dropped.
  const g = gamma ?? tf.ones([channels]);
  const b = beta ?? tf.zeros([channels]);
  try {
    const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [xi, gi, bi, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      const fwd = impl === 'loops' ? forwardLoops(xi, gi, bi, epsilon) : forwardOps(xi, gi, bi, epsilon);
      // customGrad's forward runs in a tidy: keep the statistics for the caller.
      stats = { mean: tf.keep(fwd.mean), variance: tf.keep(fwd.variance) };
      save(fwd.saved);
      return {
        value: fwd.y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => fwd.backward(dy, saved),
      };
    });
    const y = op(x, g, b);
    const s = stats as { mean: tf.Tensor1D; variance: tf.Tensor1D } | null;
    if (!s) throw new Error('batchNormTraining: forward pass produced no statistics');
    return { y, mean: s.mean, variance: s.variance };
  } finally {
    if (!gamma) g.dispose();
    if (!beta) b.dispose();
  }
}

let implOverride: BatchNormImpl | null = null;

/** For benchmarks and tests: force one implementation (null: choose by backend). */
export function setBatchNormImpl(impl: BatchNormImpl | null): void {
  implOverride = impl;
}

function defaultImpl(): BatchNormImpl {
  if (implOverride) return implOverride;
  // Native TensorFlow / GPU backends run broadcasting ops fast and reading data back is costly.
  const name = tf.getBackend();
  return name === 'cpu' || name === 'wasm' ? 'loops' : 'ops';
}

interface Forward {
  y: tf.Tensor;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Tensors for the backward pass (customGrad keeps them until then). */
  saved: tf.Tensor[];
  /** [dx, dγ, dβ] from dy and the saved tensors. */
  backward(dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[];
}

// ---- loops: typed arrays, per-channel float64 accumulators ----
// Loops walk one block of 4 channels down the rows with the accumulators in locals (indexing
// per-channel arrays in the inner loop is ~3× slower in V8). Reductions go in row chunks so the
// chunk stays in cache while each channel block passes over it.

/** Floats per row chunk of the reductions (32 KiB). */
const CHUNK = 8192;

function forwardLoops(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): Forward {
  const C = x.shape[x.rank - 1]!;
  const gs = gamma.dataSync() as Float32Array;
  const bs = beta.dataSync() as Float32Array;
  const M = x.size / C;
  // Both moments in one pass, shifted by the first row so that E[d²] − E[d]² does not cancel.
  const shift = Float64Array.from(readF32(x).subarray(0, C));
  // SIMD on all threads where the wasm backend has it, else the JS loops.
  const fast = channelSums('moments', x, null, shift);
  const s1 = fast?.s1 ?? new Float64Array(C);
  const s2 = fast?.s2 ?? new Float64Array(C);
  if (!fast) momentSums(readF32(x), C, shift, s1, s2);
  const mean = new Float32Array(C);
  const variance = new Float32Array(C);
  const mean64 = new Float64Array(C);
  const invStd64 = new Float64Array(C);
  const scale = new Float64Array(C);
  const offset = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const m1 = s1[c]! / M;
    const m = shift[c]! + m1;
    const v = Math.max(0, s2[c]! / M - m1 * m1);
    const r = 1 / Math.sqrt(v + epsilon);
    mean[c] = m;
    variance[c] = v;
    mean64[c] = m;
    invStd64[c] = r;
    scale[c] = gs[c]! * r;
    offset[c] = bs[c]! - m * gs[c]! * r;
  }
  let y: tf.Tensor | null = null;
  if (fast) {
    // y = (x − mean₃₂)·scale + β + (mean₃₂ − mean)·scale: the shift keeps x − mean exact.
    const fix = new Float64Array(C);
    for (let c = 0; c < C; c++) fix[c] = bs[c]! + (mean[c]! - mean64[c]!) * scale[c]!;
    y = channelAffine(x, scale, fix, undefined, undefined, mean);
  }
  if (!y) {
    // y = x·scale + offset
    const out = allocF32(x.shape);
    affine2(readF32(x), null, out.values(), C, scale, null, offset); // views taken after the allocation
    y = out.tensor();
  }
  // The backward pass gets mean, 1/σ and γ in float64 from this closure: with the float32 mean,
  // x − mean of a near-constant channel (ReLU6-saturated) loses its few significant bits.
  const stats: LoopStats = { mean: mean64, mean32: mean, invStd: invStd64, gamma: Float64Array.from(gs) };
  return {
    y,
    mean: tf.tensor1d(mean, 'float32'),
    variance: tf.tensor1d(variance, 'float32'),
    saved: [x],
    backward: (dy, saved) => backwardLoops(dy, saved[0]!, stats),
  };
}

interface LoopStats {
  mean: Float64Array;
  /** The mean rounded to float32: the shift of the SIMD path. */
  mean32: Float32Array;
  invStd: Float64Array;
  gamma: Float64Array;
}

function backwardLoops(dy: tf.Tensor, x: tf.Tensor, stats: LoopStats): tf.Tensor[] {
  const C = x.shape[x.rank - 1]!;
  const { mean: mu, mean32: mu32, invStd: rs, gamma: gam } = stats;
  const M = x.size / C;
  // Σdy and Σdy·(x − mean): SIMD around the float32 mean, corrected to the float64 one exactly
  // (Σdy·(x − μ) = Σdy·(x − μ₃₂) + (μ₃₂ − μ)·Σdy); else the JS loops around the float64 mean.
  const fast = dy.dtype === 'float32' ? channelSums('grad', dy, x, mu32) : null;
  const sDy = fast?.s1 ?? new Float64Array(C);
  const sDyXc = fast?.s2 ?? new Float64Array(C); // Σ dy·(x − mean)
  if (fast) for (let c = 0; c < C; c++) sDyXc[c]! += (mu32[c]! - mu[c]!) * sDy[c]!;
  else gradSums(readF32(dy), readF32(x), C, mu, sDy, sDyXc);
  const dGamma = new Float32Array(C);
  const dBeta = new Float32Array(C);
  // dx = k·dy + a·(x − mean) − k·Σdy/M with k = γ/σ, a = −k·Σdy·x̂/(M·σ) = −k·Σdy·(x − mean)/(M·σ²).
  const k = new Float64Array(C);
  const a = new Float64Array(C);
  const b = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const r = rs[c]!;
    dBeta[c] = sDy[c]!;
    dGamma[c] = sDyXc[c]! * r;
    k[c] = gam[c]! * r;
    a[c] = (-k[c]! * r * r * sDyXc[c]!) / M;
    b[c] = (-k[c]! * sDy[c]!) / M;
  }
  let dx: tf.Tensor | null = null;
  if (fast) {
    // (x − μ₃₂)·a + dy·k + b + (μ₃₂ − μ)·a
    const fix = new Float64Array(C);
    for (let c = 0; c < C; c++) fix[c] = b[c]! + (mu32[c]! - mu[c]!) * a[c]!;
    dx = channelAffine(x, a, fix, dy, k, mu32);
  }
  if (!dx) {
    for (let c = 0; c < C; c++) b[c]! -= a[c]! * mu[c]!;
    const out = allocF32(x.shape);
    affine2(readF32(x), readF32(dy), out.values(), C, a, k, b); // views taken after the allocation
    dx = out.tensor();
  }
  return [dx, tf.tensor1d(dGamma, 'float32'), tf.tensor1d(dBeta, 'float32')];
}

/** s1[c] += Σ (x − shift[c]), s2[c] += Σ (x − shift[c])² over the rows of x [M, C]. */
function momentSums(xs: Float32Array, C: number, shift: Float64Array, s1: Float64Array, s2: Float64Array): void {
  const n = xs.length;
  const chunk = Math.max(1, Math.floor(CHUNK / C)) * C;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const k0 = shift[c]!, k1 = shift[c + 1]!, k2 = shift[c + 2]!, k3 = shift[c + 3]!;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let p = start + c; p < end; p += C) {
        const d0 = xs[p]! - k0, d1 = xs[p + 1]! - k1, d2 = xs[p + 2]! - k2, d3 = xs[p + 3]! - k3;
        a0 += d0; a1 += d1; a2 += d2; a3 += d3;
        b0 += d0 * d0; b1 += d1 * d1; b2 += d2 * d2; b3 += d3 * d3;
      }
      s1[c]! += a0; s1[c + 1]! += a1; s1[c + 2]! += a2; s1[c + 3]! += a3;
      s2[c]! += b0; s2[c + 1]! += b1; s2[c + 2]! += b2; s2[c + 3]! += b3;
    }
    for (; c < C; c++) {
      const k = shift[c]!;
      let a = 0, b = 0;
      for (let p = start + c; p < end; p += C) {
        const d = xs[p]! - k;
        a += d;
        b += d * d;
      }
      s1[c]! += a;
      s2[c]! += b;
    }
  }
}

/** sDy[c] += Σ dy, sDyXc[c] += Σ dy·(x − mu[c]) over the rows. */
function gradSums(gs: Float32Array, xs: Float32Array, C: number, mu: Float64Array, sDy: Float64Array, sDyXc: Float64Array): void {
  const n = xs.length;
  const chunk = Math.max(1, Math.floor(CHUNK / C)) * C;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const m0 = mu[c]!, m1 = mu[c + 1]!, m2 = mu[c + 2]!, m3 = mu[c + 3]!;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let p = start + c; p < end; p += C) {
        const g0 = gs[p]!, g1 = gs[p + 1]!, g2 = gs[p + 2]!, g3 = gs[p + 3]!;
        a0 += g0; a1 += g1; a2 += g2; a3 += g3;
        b0 += g0 * (xs[p]! - m0); b1 += g1 * (xs[p + 1]! - m1); b2 += g2 * (xs[p + 2]! - m2); b3 += g3 * (xs[p + 3]! - m3);
      }
      sDy[c]! += a0; sDy[c + 1]! += a1; sDy[c + 2]! += a2; sDy[c + 3]! += a3;
      sDyXc[c]! += b0; sDyXc[c + 1]! += b1; sDyXc[c + 2]! += b2; sDyXc[c + 3]! += b3;
    }
    for (; c < C; c++) {
      const m = mu[c]!;
      let a = 0, b = 0;
      for (let p = start + c; p < end; p += C) {
        const g = gs[p]!;
        a += g;
        b += g * (xs[p]! - m);
      }
      sDy[c]! += a;
      sDyXc[c]! += b;
    }
  }
}

/** out = x·a[c] (+ z·k[c]) + b[c], per channel of the last axis; in row chunks like the sums. */
function affine2(xs: Float32Array, zs: Float32Array | null, out: Float32Array, C: number, a: Float64Array, k: Float64Array | null, b: Float64Array): void {
  const n = xs.length;
  const chunk = Math.max(1, Math.floor(CHUNK / C)) * C;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const a0 = a[c]!, a1 = a[c + 1]!, a2 = a[c + 2]!, a3 = a[c + 3]!;
      const b0 = b[c]!, b1 = b[c + 1]!, b2 = b[c + 2]!, b3 = b[c + 3]!;
      if (zs && k) {
        const k0 = k[c]!, k1 = k[c + 1]!, k2 = k[c + 2]!, k3 = k[c + 3]!;
        for (let p = start + c; p < end; p += C) {
          out[p] = xs[p]! * a0 + zs[p]! * k0 + b0;
          out[p + 1] = xs[p + 1]! * a1 + zs[p + 1]! * k1 + b1;
          out[p + 2] = xs[p + 2]! * a2 + zs[p + 2]! * k2 + b2;
          out[p + 3] = xs[p + 3]! * a3 + zs[p + 3]! * k3 + b3;
        }
      } else {
        for (let p = start + c; p < end; p += C) {
          out[p] = xs[p]! * a0 + b0;
          out[p + 1] = xs[p + 1]! * a1 + b1;
          out[p + 2] = xs[p + 2]! * a2 + b2;
          out[p + 3] = xs[p + 3]! * a3 + b3;
        }
      }
    }
    for (; c < C; c++) {
      const ac = a[c]!, bc = b[c]!, kc = k ? k[c]! : 0;
      if (zs) for (let p = start + c; p < end; p += C) out[p] = xs[p]! * ac + zs[p]! * kc + bc;
      else for (let p = start + c; p < end; p += C) out[p] = xs[p]! * ac + bc;
    }
  }
}

// ---- raw data access: in place on the wasm heap, dataSync elsewhere ----

interface F32Out {
  /** The values to fill; on wasm a heap view, valid until the next tensor allocation. */
  values(): Float32Array;
  tensor(): tf.Tensor;
}

function wasmBackend(): WasmBackend | null {
  return tf.getBackend() === 'wasm' ? asWasm(tf.backend()) : null;
}

/** The tensor's float32 values, read-only; on wasm a view of the heap (take it after allocating). */
function readF32(t: tf.Tensor): Float32Array {
  const wasm = wasmBackend();
  if (wasm && wasm.dataIdMap.get(t.dataId)) return f32(wasm, t);
  return t.dataSync() as Float32Array;
}

/** An uninitialised float32 output of `shape`: written in place on wasm, wrapped without copy on cpu. */
function allocF32(shape: number[]): F32Out {
  const wasm = wasmBackend();
  if (wasm) {
    const info = wasm.makeOutput(shape, 'float32');
    return {
      values: () => f32(wasm, info),
      tensor: () => tf.engine().makeTensorFromTensorInfo(info),
    };
  }
  const values = new Float32Array(sizeOf(shape));
  return { values: () => values, tensor: () => tf.tensor(values, shape, 'float32') };
}

// ---- ops: the same formulas as tf ops (broadcasting over the last axis, no Tile) ----

function reductionAxes(x: tf.Tensor): number[] {
  return Array.from({ length: x.rank - 1 }, (_, i) => i);
}

function forwardOps(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): Forward {
  const axes = reductionAxes(x);
  const mean = tf.mean(x, axes) as tf.Tensor1D;
  const variance = tf.mean(tf.square(tf.sub(x, mean)), axes) as tf.Tensor1D;
  const invStd = tf.rsqrt(tf.add(variance, epsilon)) as tf.Tensor1D;
  // y = x·(γ/σ) + (β − mean·γ/σ): two full-size ops.
  const scale = tf.mul(gamma, invStd);
  const y = tf.add(tf.mul(x, scale), tf.sub(beta, tf.mul(mean, scale)));
  return {
    y,
    mean,
    variance,
    saved: [x, mean, invStd, gamma],
    backward: (dy, saved) => {
      const [sx, sMean, sInvStd, sGamma] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
      return backwardOps(dy, sx, sMean, sInvStd, sGamma);
    },
  };
}

function backwardOps(dy: tf.Tensor, x: tf.Tensor, mean: tf.Tensor1D, invStd: tf.Tensor1D, gamma: tf.Tensor): tf.Tensor[] {
  const axes = reductionAxes(x);
  const M = x.size / x.shape[x.rank - 1]!;
  const xc = tf.sub(x, mean);
  const sDy = tf.sum(dy, axes);
  const sDyXc = tf.sum(tf.mul(dy, xc), axes);
  const k = tf.mul(gamma, invStd);
  const a = tf.mul(tf.mul(k, tf.square(invStd)), tf.mul(sDyXc, -1 / M));
  const b = tf.mul(k, tf.mul(sDy, -1 / M));
  const dx = tf.add(tf.add(tf.mul(dy, k), tf.mul(xc, a)), b);
  return [dx, tf.mul(sDyXc, invStd), sDy];
}

// ---- the BatchNormalization layer patch ----

interface LayerVariableLike {
  read(): tf.Tensor;
  write(v: tf.Tensor): unknown;
}
/** The fields of tfjs-layers' BatchNormalization that its training path uses. */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma?: LayerVariableLike;
  beta?: LayerVariableLike;
  movingMean: LayerVariableLike;
  movingVariance: LayerVariableLike;
}
type CallFn = (this: BatchNormLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

let originalCall: CallFn | null = null;
let enabled = true;

/** Patches BatchNormalization.prototype.call once, through the compat guard. */
export function installFastBatchNorm(): void {
  patchOnce('BatchNormalization.call', patchBatchNorm);
}

function patchBatchNorm(): void {
  const probe = tf.layers.batchNormalization({});
  const proto = Object.getPrototypeOf(probe) as { call: CallFn };
  if (typeof proto.call !== 'function') throw new Error('tfjs-layers BatchNormalization has no call method');
  const original = proto.call;
  originalCall = original;
  proto.call = function patchedCall(this: BatchNormLayer, inputs, kwargs) {
    const training = kwargs?.['training'] === true;
    const input = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0]! : null) : inputs;
    const axis = input ? (this.axis >= 0 ? this.axis : this.axis + input.rank) : -1;
    // Inference, and normalisation over other axes than the last, keep tfjs-layers' own path.
    if (!enabled || !training || !input || axis !== input.rank - 1 || input.rank < 2 || input.dtype !== 'float32' || input.size === 0) {
      return original.call(this, inputs, kwargs);
    }
    return tf.tidy(() => {
      const gamma = this.scale && this.gamma ? this.gamma.read() : null;
      const beta = this.center && this.beta ? this.beta.read() : null;
      const { y, mean, variance } = batchNormTraining(input, gamma, beta, this.epsilon);
      try {
        // wasm: both statistics in one kernel (moving-average.ts); elsewhere tfjs-layers' three ops each.
        if (tf.getKernel(MOVING_AVERAGE_KERNEL, tf.getBackend())) {
          tf.tidy(() => {
            const inputs = { mean, variance, movingMean: this.movingMean.read(), movingVariance: this.movingVariance.read() };
            const [m, v] = tf.engine().runKernel(MOVING_AVERAGE_KERNEL, inputs, { momentum: this.momentum }) as tf.Tensor[];
            this.movingMean.write(m!);
            this.movingVariance.write(v!);
          });
        } else {
          movingAverage(this.movingMean, mean, this.momentum);
          movingAverage(this.movingVariance, variance, this.momentum);
        }
      } finally {
        mean.dispose();
        variance.dispose();
      }
      return y;
    });
  };
}

/** For tests and benchmarks: route training calls back to tfjs-layers' own path (or not). */
export function setFastBatchNorm(on: boolean): void {
  enabled = on;
}

/** tfjs-layers' update exactly: v ← v − (v − value)·(1 − momentum), value the biased batch statistic. */
function movingAverage(variable: LayerVariableLike, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const orig = variable.read();
    variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - momentum)));
  });
}

installFastBatchNorm();
