// Adam with one fused kernel per variable on wasm. tfjs's AdamOptimizer issues 14 elementwise ops
// per variable per step (plus 3 assigns); with ~160 variables (MobileNetV2's BatchNorm γ/β) the
// dispatch alone costs more than the arithmetic. The fused SIMD kernel performs tfjs's exact
// operation sequence in float32, so results are bit-identical; state (m, v, β^t) lives in the
// same variables, so weights save/load like tf.train.adam's. Other backends: tfjs's own code.
import * as tf from '@tensorflow/tfjs';
import { elementwisePar } from './parallel.js';
import { asWasm, ptr, scopedEffect, simdCtx, f32 } from './util.js';

export const ADAM_KERNEL = 'DistillAdamStep';

/** Kernel: inputs {x, g, m, v}; attrs {k: [b1, 1−b1, b2, 1−b2, c1, c2, eps, −lr]} → [x', m', v']. */
export function adamStep(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.TensorInfo[] {
  const backend = asWasm(args.backend);
  const { x, g, m, v } = args.inputs as Record<'x' | 'g' | 'm' | 'v', tf.TensorInfo>;
  const ctx = simdCtx(backend);
  if (!ctx) throw new Error(`${ADAM_KERNEL} needs WASM SIMD`);
  const k = (args.attrs as unknown as { k: number[] }).k;
  const n = x.shape.reduce((a, b) => a * b, 1);
  const outs = [backend.makeOutput(x.shape, 'float32'), backend.makeOutput(x.shape, 'float32'), backend.makeOutput(x.shape, 'float32')];
  scopedEffect(backend, (s) => {
    const kT = s.keep(backend.makeOutput([8], 'float32'));
    f32(backend, kT).set(k);
    const [px, pg, pm, pv, pk] = [x, g, m, v, kT].map((t) => ptr(backend, t)) as [number, number, number, number, number];
    const [ox, om, ov] = outs.map((t) => ptr(backend, t)) as [number, number, number];
    elementwisePar(ctx, 'adam', n, (i0, i1) => [px, pg, pm, pv, ox, om, ov].map((p) => p + i0 * 4).concat([i1 - i0, pk]));
  });
  return outs;
}

interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
}

export class FastAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (tf.getBackend() !== 'wasm' || !tf.getKernel(ADAM_KERNEL, 'wasm') || !simdCtx(asWasm(tf.backend()))) {
      super.applyGradients(variableGradients);
      return;
    }
    const st = this as unknown as AdamState;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const fr = Math.fround;
    tf.tidy(() => {
      // tfjs computes these as float32 tensors: round the same way.
      const c1 = fr(1 - st.accBeta1.dataSync()[0]!);
      const c2 = fr(1 - st.accBeta2.dataSync()[0]!);
      const k = [fr(this.beta1), fr(1 - this.beta1), fr(this.beta2), fr(1 - this.beta2), c1, c2, fr(this.epsilon), fr(-this.learningRate)];
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        if (st.accumulatedFirstMoment[i] == null) {
          st.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        if (st.accumulatedSecondMoment[i] == null) {
          st.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        const g: tf.Tensor | undefined = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (g == null) return;
        const m = st.accumulatedFirstMoment[i]!.variable;
        const v = st.accumulatedSecondMoment[i]!.variable;
        if (value.dtype !== 'float32' || g.dtype !== 'float32') throw new Error(`Adam: ${name} is not float32`);
        const [x2, m2, v2] = tf.engine().runKernel(ADAM_KERNEL, { x: value, g, m, v }, { k } as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(m2!);
        v.assign(v2!);
        value.assign(x2!);
      });
      st.accBeta1.assign(tf.mul(st.accBeta1, this.beta1));
      st.accBeta2.assign(tf.mul(st.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** tf.train.adam with the fused wasm update (same defaults). */
export function fastAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null): FastAdamOptimizer {
  return new FastAdamOptimizer(learningRate, beta1, beta2, epsilon ?? undefined);
}
