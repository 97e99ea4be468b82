// Fast transposes for the layouts the gradient kernels shuffle between. tfjs's wasm Transpose is
// a scalar loop (a [18432,64] 2-D transpose costs more than the matmul that follows it); these use
// 4×4 SIMD blocks or bulk row copies. Other permutations go to tfjs's kernel.
import type * as tf from '@tensorflow/tfjs';
import { transpose2dPar } from './parallel.js';
import { ptr, simdCtx, type Scope } from './util.js';

export function transposeFast(s: Scope, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  const ctx = simdCtx(s.backend);
  const k = ctx?.k;
  const key = perm.join(',');
  if (!k || x.dtype !== 'float32' || (key !== '1,0' && key !== '1,2,0,3' && key !== '3,1,2,0')) return s.transpose(x, perm);
  const shape = perm.map((p) => x.shape[p]!);
  const out = s.keep(s.backend.makeOutput(shape, 'float32'));
  // Pointers after the allocation: memoryOffset values never move, only views go stale.
  const src = ptr(s.backend, x);
  const dst = ptr(s.backend, out);
  if (key === '1,0') {
    const [rows, cols] = x.shape as [number, number];
    transpose2dPar(ctx!, src, dst, rows, cols, cols, rows);
  } else if (key === '1,2,0,3') {
    // [B,H,W,C] → [H,W,B,C]: move whole C-rows.
    const [b, h, w, c] = x.shape as [number, number, number, number];
    k.copyBlocks(src, dst, b, h * w, c, h * w * c, c, c, b * c);
  } else {
    // [B,H,W,C] → [C,H,W,B]: at every pixel a [B×C] block is transposed.
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const hw = h * w;
    for (let p = 0; p < hw; p++) k.transpose2d(src + p * c * 4, dst + p * b * 4, b, c, hw * c, hw * b);
  }
  return out;
}
