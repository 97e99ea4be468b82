// The activations the SIMD kernels fuse into their output loops, as clamp bounds: the kernels take
// the bounds as float32 bits in int32 arguments (the worker pool passes int32s only).
export type ClampAct = 'linear' | 'relu' | 'relu6';

export const CLAMP_ACTS: ReadonlySet<string> = new Set<ClampAct>(['linear', 'relu', 'relu6']);

function bits(v: number): number {
  return new Int32Array(new Float32Array([v]).buffer)[0]!;
}

const CLAMP: Record<ClampAct, [number, number]> = {
  linear: [bits(-Infinity), bits(Infinity)],
  relu: [bits(0), bits(Infinity)],
  relu6: [bits(0), bits(6)],
};

/** [lo, hi] as float32 bits. */
export function clampBits(act: ClampAct): [number, number] {
  return CLAMP[act];
}
