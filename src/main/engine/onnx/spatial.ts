// Spatial values of an ONNX graph read on the host: which axes are space in a rank-4 value, its mean
// over positions (pooled features), and the value in our NHWC layout (an attention map).
export type SpatialLayout = 'NCHW' | 'NHWC';

/** [N,C,H,W] or [N,H,W,C]: the square pair of dims is space; where both read as square, `fallback` (the input's layout). */
export function spatialLayout(dims: readonly number[], fallback: SpatialLayout): SpatialLayout {
  const nchw = dims[2] === dims[3];
  const nhwc = dims[1] === dims[2];
  if (nchw && !nhwc) return 'NCHW';
  if (nhwc && !nchw) return 'NHWC';
  return fallback;
}

/** Channels of a rank-4 value in `layout`. */
export function spatialChannels(dims: readonly number[], layout: SpatialLayout): number {
  return layout === 'NCHW' ? dims[1]! : dims[3]!;
}

/** Row-major [n, D] features from the runtime's output: [n, D] as is, [n, …] with 4 dims averaged over space. */
export function pooled(rows: Float32Array, dims: readonly number[], layout: SpatialLayout): { data: Float32Array; dim: number } {
  const n = dims[0]!;
  if (dims.length === 2) return { data: rows, dim: dims[1]! };
  const [C, HW] = layout === 'NCHW' ? [dims[1]!, dims[2]! * dims[3]!] : [dims[3]!, dims[1]! * dims[2]!];
  const out = new Float32Array(n * C);
  for (let b = 0; b < n; b++) {
    const base = b * C * HW;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let i = 0; i < HW; i++) s += layout === 'NCHW' ? rows[base + c * HW + i]! : rows[base + i * C + c]!;
      out[b * C + c] = s / HW;
    }
  }
  return { data: out, dim: C };
}

/** A rank-4 value as NHWC [n, H, W, C] (transposed from NCHW where that is its layout). */
export function toNhwc(rows: Float32Array, dims: readonly number[], layout: SpatialLayout): { data: Float32Array; shape: [number, number, number, number] } {
  if (layout === 'NHWC') return { data: rows, shape: [dims[0]!, dims[1]!, dims[2]!, dims[3]!] };
  const [n, C, H, W] = [dims[0]!, dims[1]!, dims[2]!, dims[3]!];
  const HW = H * W;
  const out = new Float32Array(rows.length);
  for (let b = 0; b < n; b++) {
    const base = b * C * HW;
    for (let c = 0; c < C; c++) for (let i = 0; i < HW; i++) out[base + i * C + c] = rows[base + c * HW + i]!;
  }
  return { data: out, shape: [n, H, W, C] };
}
