// SIMD kernels that tfjs's wasm build lacks or does slowly, assembled at run time (asm.ts) into a
// module that imports tfjs's own WebAssembly.Memory, so they read and write tensors in place.
// All pointers are byte addresses on that heap; sizes and strides count floats.
import { assemble, Fn, type Local } from './asm.js';
import { dwConv3x3, dwFilterGrad3x3 } from './depthwise-asm.js';
import { type KernelName, SimdPool, type WinogradKernelName } from './simd-pool.js';
import { relaxedSimd } from './relaxed-simd.js';
import { wgDy, wgFilter, wgFilterOut, wgInput, wgOutput } from './winograd-asm.js';
import { WINOGRAD_TILES } from './winograd-matrices.js';

export interface SimdKernels {
  /** dst[c·dstStride + r] = src[r·srcStride + c] for r < rows, c < cols. */
  transpose2d(src: number, dst: number, rows: number, cols: number, srcStride: number, dstStride: number): void;
  /** For o < nOuter, i < nInner: copy `chunk` floats from src[o·sOut + i·sIn] to dst[o·dOut + i·dIn]. */
  copyBlocks(src: number, dst: number, nOuter: number, nInner: number, chunk: number, sOut: number, sIn: number, dOut: number, dIn: number): void;
  /**
   * C[i·ldc + j] (= or, with accumulate, +=) Σ_{p<P} A[i·aI + p·aP] · B[p·ldb + j] for i < I, j < J.
   * Aᵀ·B of row-major operands (filter gradients: cols/x and dy share the row p) is aI = 1,
   * aP = lda; a plain A·B is aI = lda, aP = 1.
   */
  gemm(a: number, b: number, c: number, p: number, i: number, j: number, aI: number, aP: number, ldb: number, ldc: number, accumulate: number): void;
  /** gemm, then C = clamp(C + bias[j], lo, hi) (bias 0: none; lo, hi float32 bits): a 1×1 convolution with its bias and activation. */
  gemmEpi(a: number, b: number, c: number, p: number, i: number, j: number, aI: number, aP: number, ldb: number, ldc: number, accumulate: number, bias: number, loBits: number, hiBits: number): void;
  /** gemm with relaxed SIMD's fused multiply-add; only in a module compiled with relaxed SIMD on (Simd.fma). */
  gemmFma?(a: number, b: number, c: number, p: number, i: number, j: number, aI: number, aP: number, ldb: number, ldc: number, accumulate: number): void;
  /**
   * Depthwise input gradient, multiplier 1, C % 4 = 0, scattered into a zeroed padded buffer
   * dxp [B,Hp,Wp,C]: dxp[b, oy·sh+ky, ox·sw+kx, c] += dy[b,oy,ox,c] · w[ky,kx,c].
   */
  dwInputGrad(dy: number, w: number, dx: number, b: number, h: number, wd: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number): void;
  /**
   * out[i] = a[i] ∘ b[i] for i < n. Mode 0: both full; 1: b is one scalar (b[0]); 2: a is; 3: b is
   * a row of `cols` floats broadcast over n / cols rows; 4: a is. Comparisons write bools (bytes).
   */
  add(a: number, b: number, out: number, n: number, mode: number, cols: number): void;
  sub(a: number, b: number, out: number, n: number, mode: number, cols: number): void;
  mul(a: number, b: number, out: number, n: number, mode: number, cols: number): void;
  min(a: number, b: number, out: number, n: number, mode: number, cols: number): void;
  max(a: number, b: number, out: number, n: number, mode: number, cols: number): void;
  greater(a: number, b: number, out: number, n: number, mode: number, cols: number): void;
  greaterEqual(a: number, b: number, out: number, n: number, mode: number, cols: number): void;
  less(a: number, b: number, out: number, n: number, mode: number, cols: number): void;
  lessEqual(a: number, b: number, out: number, n: number, mode: number, cols: number): void;
  /** dst = the `bytes` bytes at src repeated `times` times (doubling copies). */
  tileRows(src: number, dst: number, bytes: number, times: number): void;
  /** out = max(x, 0), min(max(x, 0), 6), x > 0 ? 1 : 0 (NaN stays NaN), for n floats. */
  relu(x: number, out: number, n: number): void;
  relu6(x: number, out: number, n: number): void;
  step(x: number, out: number, n: number): void;
  /**
   * The gradient of relu (cap = +∞) and relu6 (cap = 6) in one pass: out = 0 < x ≤ cap ? dy : 0,
   * and NaN where x is NaN (what tfjs's dy·step(x) and dy·(x ≤ 6)·step(x) give). capBits: the
   * float32 bits of cap as an int32 (worker jobs pass int32 arguments).
   */
  reluGrad(dy: number, x: number, out: number, n: number, capBits: number): void;
  /**
   * Per-channel sums over rows [rows, C], in chunks of R rows: out[chunk][0][c] and out[chunk][1][c]
   * (float32 partials; the caller adds the chunks up in float64). momentSums: Σ(a−m), Σ(a−m)²;
   * gradSums: Σa, Σa·(b−m). m: C floats.
   */
  momentSums(a: number, b: number, m: number, out: number, rows: number, c: number, r: number): void;
  gradSums(a: number, b: number, m: number, out: number, rows: number, c: number, r: number): void;
  /**
   * out = (x − m)·a + z·k + b per channel (z, k skipped when hasZ = 0); m, a, k, b: C floats. The
   * shift m keeps x − m exact where x is close to it (BatchNorm of a near-constant channel).
   */
  chanAffine(x: number, z: number, out: number, m: number, a: number, k: number, b: number, rows: number, c: number, hasZ: number): void;
  /** col2im: zero dxp [B,Hp,Wp,C], then add each row of cols [B·OH·OW, KH·KW·C] into its window. */
  col2im(cols: number, dxp: number, b: number, hp: number, wp: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number): void;
  /**
   * One Adam step over n floats, tfjs's operation order in float32 (bit-identical results):
   * m' = m·b1 + g·(1−b1); v' = v·b2 + g²·(1−b2); w' = (m'/c1) / (sqrt(v'/c2) + eps) · (−lr) + w.
   * k: 8 floats [b1, 1−b1, b2, 1−b2, c1, c2, eps, −lr].
   */
  adam(w: number, g: number, m: number, v: number, wOut: number, mOut: number, vOut: number, n: number, k: number): void;
  /** Zeroes `bytes` bytes at dst. */
  zero(dst: number, bytes: number): void;
  /** dst[c] = Σ_r src[r·cols + c]. */
  colSum(src: number, dst: number, rows: number, cols: number): void;
  /**
   * Depthwise filter gradient, multiplier 1, x already padded to [B,Hp,Wp,CS]:
   * out[ky,kx,c] = Σ_{b,oy,ox} xp[b, oy·sh+ky, ox·sw+kx, c] · dy[b,oy,ox,c] for the first c
   * channels (c % 4 = 0) of rows cs channels long (out too is [kh,kw,cs]).
   */
  dwFilterGrad(xp: number, dy: number, out: number, b: number, hp: number, wp: number, c: number, cs: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number): void;
  /** The 3×3 depthwise filter gradient on the unpadded x (depthwise-asm.ts). */
  dwFilterGrad3x3(x: number, dy: number, out: number, b: number, h: number, wd: number, c: number, cs: number, oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, zeros: number): void;
  /** Winograd F(m×m, 3×3) transforms for m = 2, 3, 4: see winograd-asm.ts. */
  [filter: `wgFilter${number}` | `wgFilterOut${number}`]: (src: number, dst: number, cin: number, cout: number, plane: number) => void;
  [tiles: `wgInput${number}` | `wgDy${number}`]: (src: number, dst: number, nb: number, hp: number, wp: number, c: number, th: number, tw: number, stride: number) => void;
  [output: `wgOutput${number}`]: (m: number, y: number, bias: number, nb: number, oh: number, ow: number, c: number, th: number, tw: number, mStride: number, hasBias: number, lo: number, hi: number) => void;
  /** `count` gemm calls whose A, B, C advance by aStep, bStep, cStep floats; fma ≠ 0: gemmFma's (if compiled). */
  gemmBatch(a: number, b: number, c: number, p: number, i: number, j: number, aI: number, aP: number, ldb: number, ldc: number, accumulate: number, count: number, aStep: number, bStep: number, cStep: number, fma: number): void;
  /**
   * C (+)= Σ_{o < outer, k < count} A_ok·B_ok, A_ok = A + (o·aOuter + k·aStep) floats, B_ok likewise:
   * many small GEMMs summed into one C in one call (accumulate: the first adds to C too).
   */
  gemmSum(a: number, b: number, c: number, p: number, i: number, j: number, aI: number, aP: number, ldb: number, ldc: number, accumulate: number, count: number, aStep: number, bStep: number, outer: number, aOuter: number, bOuter: number, fma: number): void;
  /** MaxPool's gradient (dilation 1, c % 4 = 0) into a dx it zeroes first; see maxPoolGrad below. */
  maxPoolGrad(x: number, dy: number, dx: number, nb: number, h: number, w: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number): void;
  /** 3×3 depthwise convolution + bias + activation (depthwise-asm.ts). */
  dwConv3x3(x: number, w: number, bias: number, out: number, nb: number, h: number, wd: number, c: number, oh: number, ow: number, sh: number, sw: number, pt: number, pl: number, y0: number, y1: number, act: number, zeros: number): void;
  /** im2col of a padded [B,Hp,Wp,C] into [B·OH·OW, KH·KW·C]. */
  im2col(xp: number, dst: number, b: number, hp: number, wp: number, c: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number): void;
}

function transpose2d(): Fn {
  const f = new Fn('transpose2d', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [src, dst, rows, cols, ss, ds] = f.params as [Local, Local, Local, Local, Local, Local];
  const r = f.local('i32');
  const r0 = f.local('i32');
  const rEnd = f.local('i32');
  const c = f.local('i32');
  const k = f.local('i32');
  const rows4 = f.local('i32');
  const cols4 = f.local('i32');
  const p = f.local('i32'); // src address of (r, c)
  const q = f.local('i32'); // dst address of (c, r)
  const ssB = f.local('i32'); // src row stride in bytes
  const dsB = f.local('i32');
  const [a, b, cc, d, t0, t1, t2, t3] = Array.from({ length: 8 }, () => f.local('v128'));
  f.get(rows).i32(-4).and().set(rows4);
  f.get(cols).i32(-4).and().set(cols4);
  f.get(ss).i32(2).shl().set(ssB);
  f.get(ds).i32(2).shl().set(dsB);
  // Rows in chunks of 64: within a chunk, each 4-column block writes 4 contiguous runs of dst
  // (walking 4 far-apart dst rows one vector at a time thrashes the cache when the row stride is a
  // multiple of 4 KiB), and the chunk's src rows stay in L1 across the column blocks.
  f.loop(r0, 0, rows4, 64, () => {
    f.get(r0).i32(64).add().get(rows4).get(r0).i32(64).add().get(rows4).ltS().select().set(rEnd);
    f.loop(c, 0, cols4, 4, () => {
      f.loop(r, r0, rEnd, 4, () => {
        f.get(src).get(r).get(ss).mul().get(c).add().i32(2).shl().add().set(p);
        f.get(p).v128Load().set(a);
        f.get(p).get(ssB).add().tee(p).v128Load().set(b);
        f.get(p).get(ssB).add().tee(p).v128Load().set(cc);
        f.get(p).get(ssB).add().v128Load().set(d);
        f.get(a).get(b).shuffle32([0, 4, 1, 5]).set(t0);
        f.get(a).get(b).shuffle32([2, 6, 3, 7]).set(t1);
        f.get(cc).get(d).shuffle32([0, 4, 1, 5]).set(t2);
        f.get(cc).get(d).shuffle32([2, 6, 3, 7]).set(t3);
        f.get(dst).get(c).get(ds).mul().get(r).add().i32(2).shl().add().set(q);
        f.get(q).get(t0).get(t2).shuffle32([0, 1, 4, 5]).v128Store();
        f.get(q).get(dsB).add().tee(q).get(t0).get(t2).shuffle32([2, 3, 6, 7]).v128Store();
        f.get(q).get(dsB).add().tee(q).get(t1).get(t3).shuffle32([0, 1, 4, 5]).v128Store();
        f.get(q).get(dsB).add().get(t1).get(t3).shuffle32([2, 3, 6, 7]).v128Store();
      });
    });
  });
  f.loop(r, 0, rows4, 4, () => {
    // Leftover columns of these 4 rows.
    f.loop(c, cols4, cols, 1, () => {
      f.loop(k, 0, 4, 1, () => {
        f.get(dst).get(c).get(ds).mul().get(r).add().get(k).add().i32(2).shl().add();
        f.get(src).get(r).get(k).add().get(ss).mul().get(c).add().i32(2).shl().add().f32Load();
        f.f32Store();
      });
    });
  });
  // Leftover rows.
  f.loop(r, rows4, rows, 1, () => {
    f.loop(c, 0, cols, 1, () => {
      f.get(dst).get(c).get(ds).mul().get(r).add().i32(2).shl().add();
      f.get(src).get(r).get(ss).mul().get(c).add().i32(2).shl().add().f32Load();
      f.f32Store();
    });
  });
  return f;
}

function copyBlocks(): Fn {
  const f = new Fn('copyBlocks', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [src, dst, nOuter, nInner, chunk, sOut, sIn, dOut, dIn] = f.params as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const o = f.local('i32');
  const i = f.local('i32');
  const k = f.local('i32');
  const bytes = f.local('i32');
  const d = f.local('i32');
  const sp = f.local('i32');
  f.get(chunk).i32(2).shl().set(bytes);
  f.loop(o, 0, nOuter, 1, () => {
    f.loop(i, 0, nInner, 1, () => {
      f.get(dst).get(o).get(dOut).mul().get(i).get(dIn).mul().add().i32(2).shl().add().set(d);
      f.get(src).get(o).get(sOut).mul().get(i).get(sIn).mul().add().i32(2).shl().add().set(sp);
      // A few floats (an RGB pixel) move faster one by one than through memory.copy.
      f.get(chunk).i32(8).ltS().ifElse(
        () => {
          f.loop(k, 0, bytes, 4, () => {
            f.get(d).get(k).add().get(sp).get(k).add().f32Load().f32Store();
          });
        },
        () => {
          f.get(d).get(sp).get(bytes).memoryCopy();
        },
      );
    });
  });
  return f;
}

/** Rows of A·B kept hot in cache while all tiles of C pass over them. */
const GEMM_P_BLOCK = 256;

/**
 * gemm: C = A·B in register tiles of MR rows × NR columns of C (NR a multiple of 4); the p loop
 * runs in blocks of GEMM_P_BLOCK so a block of A and B stays in cache for every tile. Tiles: 4×8
 * over the bulk, 1×8 for leftover rows, 4×4 / 1×4 for a leftover 4 columns, scalar for the rest.
 * A is read one element at a time (load-splat) through strides, so any layout of A works.
 */
function gemm(fma = false, epilogue = false): Fn {
  const f = new Fn(epilogue ? 'gemmEpi' : fma ? 'gemmFma' : 'gemm', Array(epilogue ? 14 : 11).fill('i32') as 'i32'[]);
  const [A, B, C, P, I, J, aI, aP, ldb, ldc, accumulate] = f.params as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  // gemmEpi: then C = clamp(C + bias[j], lo, hi) once the last block of p is in (bias 0: none).
  const [bias, loBits, hiBits] = f.params.slice(11) as Local[];
  const last = f.local('i32');
  const [lo, hi, bv] = [f.local('v128'), f.local('v128'), f.local('v128')];
  const sb = f.local('f32');
  const [p0, pEnd, p, i, j, i4, j8, j4] = Array.from({ length: 8 }, () => f.local('i32'));
  const [pb, pc, aIB, aPB, ldbB, ldcB] = Array.from({ length: 6 }, () => f.local('i32'));
  const pa = Array.from({ length: 4 }, () => f.local('i32')); // A row pointers of the tile
  const load = f.local('i32'); // 1 when the tile starts from C's current contents
  const sa = f.local('f32');
  const vb = [f.local('v128'), f.local('v128')];
  const va = f.local('v128');
  const acc = Array.from({ length: 4 }, () => [f.local('v128'), f.local('v128')]);

  const tile = (mr: number, nr: number) => {
    const nv = nr / 4;
    f.get(C).get(i).get(ldc).mul().get(j).add().i32(2).shl().add().set(pc);
    for (let r = 0; r < mr; r++) {
      for (let v = 0; v < nv; v++) {
        f.get(load).ifElse(
          () => { f.get(pc).get(ldcB).i32(r).mul().add().v128Load(v * 16).set(acc[r]![v]!); },
          () => { f.v128Zero().set(acc[r]![v]!); },
        );
      }
    }
    // pa[r] = A + ((i + r)·aI + p0·aP)·4, pb = B + (p0·ldb + j)·4
    for (let r = 0; r < mr; r++) f.get(A).get(i).i32(r).add().get(aI).mul().get(p0).get(aP).mul().add().i32(2).shl().add().set(pa[r]!);
    f.get(B).get(p0).get(ldb).mul().get(j).add().i32(2).shl().add().set(pb);
    f.loop(p, p0, pEnd, 1, () => {
      for (let v = 0; v < nv; v++) f.get(pb).v128Load(v * 16).set(vb[v]!);
      for (let r = 0; r < mr; r++) {
        f.get(pa[r]!).v128Load32Splat().set(va);
        for (let v = 0; v < nv; v++) {
          if (fma) f.get(va).get(vb[v]!).get(acc[r]![v]!).f32x4RelaxedMadd().set(acc[r]![v]!);
          else f.get(acc[r]![v]!).get(va).get(vb[v]!).f32x4Mul().f32x4Add().set(acc[r]![v]!);
        }
        f.get(pa[r]!).get(aPB).add().set(pa[r]!);
      }
      f.get(pb).get(ldbB).add().set(pb);
    });
    if (epilogue) {
      f.get(last).ifElse(() => {
        for (let v = 0; v < nv; v++) {
          f.get(bias!).ifElse(() => f.get(bias!).get(j).i32(2).shl().add().v128Load(v * 16).set(bv), () => f.v128Zero().set(bv));
          for (let r = 0; r < mr; r++) f.get(acc[r]![v]!).get(bv).f32x4Add().get(lo).f32x4Pmax().get(hi).f32x4Pmin().set(acc[r]![v]!);
        }
      });
    }
    for (let r = 0; r < mr; r++) {
      for (let v = 0; v < nv; v++) f.get(pc).get(ldcB).i32(r).mul().add().get(acc[r]![v]!).v128Store(v * 16);
    }
  };

  if (epilogue) {
    f.get(loBits!).f32ReinterpretI32().f32x4Splat().set(lo);
    f.get(hiBits!).f32ReinterpretI32().f32x4Splat().set(hi);
  }
  f.get(aI).i32(2).shl().set(aIB);
  f.get(aP).i32(2).shl().set(aPB);
  f.get(ldb).i32(2).shl().set(ldbB);
  f.get(ldc).i32(2).shl().set(ldcB);
  f.get(I).i32(-4).and().set(i4);
  f.get(J).i32(-8).and().set(j8);
  f.get(J).i32(-4).and().set(j4);
  f.loop(p0, 0, P, GEMM_P_BLOCK, () => {
    f.get(p0).i32(GEMM_P_BLOCK).add().get(P).get(p0).i32(GEMM_P_BLOCK).add().get(P).ltS().select().set(pEnd);
    f.get(p0).eqz().get(accumulate).eqz().and().eqz().set(load); // load unless (first block and not accumulating)
    if (epilogue) f.get(pEnd).get(P).geS().set(last);
    f.loop(i, 0, i4, 4, () => {
      f.loop(j, 0, j8, 8, () => tile(4, 8));
      f.loop(j, j8, j4, 4, () => tile(4, 4));
    });
    f.loop(i, i4, I, 1, () => {
      f.loop(j, 0, j8, 8, () => tile(1, 8));
      f.loop(j, j8, j4, 4, () => tile(1, 4));
    });
    // Columns past the last multiple of 4: scalar dot products.
    f.loop(i, 0, I, 1, () => {
      f.loop(j, j4, J, 1, () => {
        f.get(C).get(i).get(ldc).mul().get(j).add().i32(2).shl().add().set(pc);
        f.get(load).ifElse(() => { f.get(pc).f32Load().set(sa); }, () => { f.f32(0).set(sa); });
        f.get(A).get(i).get(aI).mul().get(p0).get(aP).mul().add().i32(2).shl().add().set(pa[0]!);
        f.get(B).get(p0).get(ldb).mul().get(j).add().i32(2).shl().add().set(pb);
        f.loop(p, p0, pEnd, 1, () => {
          f.get(sa).get(pa[0]!).f32Load().get(pb).f32Load().f32Mul().f32Add().set(sa);
          f.get(pa[0]!).get(aPB).add().set(pa[0]!);
          f.get(pb).get(ldbB).add().set(pb);
        });
        if (epilogue) {
          f.get(last).ifElse(() => {
            f.get(bias!).ifElse(() => f.get(bias!).get(j).i32(2).shl().add().f32Load().set(sb), () => f.f32(0).set(sb));
            f.get(sa).get(sb).f32Add().get(loBits!).f32ReinterpretI32().f32Max().get(hiBits!).f32ReinterpretI32().f32Min().set(sa);
          });
        }
        f.get(pc).get(sa).f32Store();
      });
    });
  });
  return f;
}

/**
 * gemmBatch: `count` GEMMs (gemm's first 11 arguments) whose A, B and C advance by aStep, bStep,
 * cStep floats from one to the next: one call (one hand-over to the workers) for Winograd's (m + 2)².
 * fma ≠ 0 calls gemmFma (only where the module has it: fmaIndex ≥ 0).
 */
function gemmBatch(gemmIndex: number, fmaIndex: number): Fn {
  const f = new Fn('gemmBatch', Array(16).fill('i32') as 'i32'[]);
  const [A, B, C, P, I, J, aI, aP, ldb, ldc, accumulate, count, aStep, bStep, cStep, fma] = f.params as Local[] as Local[];
  const k = f.local('i32');
  const call = (index: number) => {
    f.loop(k, 0, count!, 1, () => {
      f.get(A!).get(k).get(aStep!).mul().i32(2).shl().add();
      f.get(B!).get(k).get(bStep!).mul().i32(2).shl().add();
      f.get(C!).get(k).get(cStep!).mul().i32(2).shl().add();
      for (const a of [P, I, J, aI, aP, ldb, ldc, accumulate]) f.get(a!);
      f.call(index);
    });
  };
  if (fmaIndex >= 0) f.get(fma!).ifElse(() => call(fmaIndex), () => call(gemmIndex));
  else call(gemmIndex);
  return f;
}

/** gemmSum (see SimdKernels): the filter gradient of a convolution with few input channels, one GEMM per output row and filter row, without im2col. */
function gemmSum(gemmIndex: number, fmaIndex: number): Fn {
  const f = new Fn('gemmSum', Array(18).fill('i32') as 'i32'[]);
  const [A, B, C, P, I, J, aI, aP, ldb, ldc, accumulate, count, aStep, bStep, outer, aOuter, bOuter, fma] = f.params as Local[] as Local[];
  const [o, k, acc] = [f.local('i32'), f.local('i32'), f.local('i32')];
  const call = (index: number) => {
    f.get(accumulate!).set(acc);
    f.loop(o, 0, outer!, 1, () => {
      f.loop(k, 0, count!, 1, () => {
        f.get(A!).get(o).get(aOuter!).mul().get(k).get(aStep!).mul().add().i32(2).shl().add();
        f.get(B!).get(o).get(bOuter!).mul().get(k).get(bStep!).mul().add().i32(2).shl().add();
        f.get(C!);
        for (const a of [P, I, J, aI, aP, ldb, ldc]) f.get(a!);
        f.get(acc);
        f.call(index);
        f.i32(1).set(acc);
      });
    });
  };
  if (fmaIndex >= 0) f.get(fma!).ifElse(() => call(fmaIndex), () => call(gemmIndex));
  else call(gemmIndex);
  return f;
}

/**
 * out[i] = a[i] ∘ b[i] for i < n. Mode 0: both full; 1: b is a scalar; 2: a is; 3: b is a row of
 * `cols` floats repeated over n / cols rows (a bias); 4: a is. One loop per mode, so inner loops
 * have no branch. Float outputs go 4 lanes at a time (when `vec` is given), bool outputs (one
 * byte per element, tfjs's layout) one by one.
 */
function binary(name: string, vec: ((f: Fn) => void) | null, scalar: (f: Fn) => void, boolOut = false): Fn {
  const f = new Fn(name, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [a, b, out, n, mode, cols] = f.params as [Local, Local, Local, Local, Local, Local];
  const o = f.local('i32'); // byte offset of the element (float units) within the row / array
  const row = f.local('i32'); // byte offset of the row's first element
  const r = f.local('i32');
  const rows = f.local('i32');
  const bytes = f.local('i32');
  const bytes4 = f.local('i32');
  const sv = f.local('v128');
  const ss = f.local('f32');
  type Side = (vector: boolean) => void;
  const body = (lhs: Side, rhs: Side) => {
    if (vec && !boolOut) {
      f.loop(o, 0, bytes4, 16, () => {
        f.get(out).get(row).add().get(o).add();
        lhs(true);
        rhs(true);
        vec(f);
        f.v128Store();
      });
    }
    f.loop(o, vec && !boolOut ? bytes4 : 0, bytes, 4, () => {
      if (boolOut) f.get(out).get(row).get(o).add().i32(2).shrU().add();
      else f.get(out).get(row).add().get(o).add();
      lhs(false);
      rhs(false);
      scalar(f);
      if (boolOut) f.i32Store8();
      else f.f32Store();
    });
  };
  const full = (p: Local): Side => (v) => (v ? f.get(p).get(row).add().get(o).add().v128Load() : f.get(p).get(row).add().get(o).add().f32Load());
  const rowOf = (p: Local): Side => (v) => (v ? f.get(p).get(o).add().v128Load() : f.get(p).get(o).add().f32Load());
  const splat: Side = (v) => (v ? f.get(sv) : f.get(ss));
  const flat = (lhs: Side, rhs: Side) => {
    f.i32(0).set(row);
    f.get(n).i32(2).shl().set(bytes);
    f.get(bytes).i32(-16).and().set(bytes4);
    body(lhs, rhs);
  };
  const byRows = (lhs: Side, rhs: Side) => {
    f.get(cols).i32(2).shl().set(bytes);
    f.get(bytes).i32(-16).and().set(bytes4);
    f.get(n).get(cols).divS().set(rows);
    f.i32(0).set(row);
    f.loop(r, 0, rows, 1, () => {
      body(lhs, rhs);
      f.get(row).get(bytes).add().set(row);
    });
  };
  const is = (m: number, then: () => void, otherwise: () => void) => f.get(mode).i32(m).eq().ifElse(then, otherwise);
  is(0, () => flat(full(a), full(b)), () =>
    is(1, () => {
      f.get(b).f32Load().tee(ss).f32x4Splat().set(sv);
      flat(full(a), splat);
    }, () =>
      is(2, () => {
        f.get(a).f32Load().tee(ss).f32x4Splat().set(sv);
        flat(splat, full(b));
      }, () =>
        is(3, () => byRows(full(a), rowOf(b)), () => byRows(rowOf(a), full(b))))));
  return f;
}

/** out[i] = g(x[i]); `vec` gets the v128 local x and constants six, one; `scalar` the f32 local. */
function unary(name: string, vec: (f: Fn, x: Local, six: Local, one: Local) => void, scalar: (f: Fn, x: Local) => void): Fn {
  const f = new Fn(name, ['i32', 'i32', 'i32']);
  const [x, out, n] = f.params as [Local, Local, Local];
  const o = f.local('i32');
  const bytes = f.local('i32');
  const bytes4 = f.local('i32');
  const v = f.local('v128');
  const six = f.local('v128');
  const one = f.local('v128');
  const sv = f.local('f32');
  f.f32(6).f32x4Splat().set(six);
  f.f32(1).f32x4Splat().set(one);
  f.get(n).i32(2).shl().set(bytes);
  f.get(bytes).i32(-16).and().set(bytes4);
  f.loop(o, 0, bytes4, 16, () => {
    f.get(out).get(o).add();
    f.get(x).get(o).add().v128Load().set(v);
    vec(f, v, six, one);
    f.v128Store();
  });
  f.loop(o, bytes4, bytes, 4, () => {
    f.get(out).get(o).add();
    f.get(x).get(o).add().f32Load().set(sv);
    scalar(f, sv);
    f.f32Store();
  });
  return f;
}

function reluGrad(): Fn {
  const f = new Fn('reluGrad', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const [dy, x, out, n, capBits] = f.params as [Local, Local, Local, Local, Local];
  const cap = f.local('f32');
  const o = f.local('i32');
  const bytes = f.local('i32');
  const bytes4 = f.local('i32');
  const xv = f.local('v128');
  const capv = f.local('v128');
  const xs = f.local('f32');
  f.get(capBits).f32ReinterpretI32().set(cap);
  f.get(cap).f32x4Splat().set(capv);
  f.get(n).i32(2).shl().set(bytes);
  f.get(bytes).i32(-16).and().set(bytes4);
  f.loop(o, 0, bytes4, 16, () => {
    f.get(out).get(o).add();
    f.get(x).get(o).add().v128Load().set(xv);
    // t = x > 0 ? dy : 0; then 0 where x > cap; then x itself where x is NaN.
    f.v128Zero();
    f.get(dy).get(o).add().v128Load().v128Zero().get(xv).v128Zero().f32x4Gt().bitselect();
    f.get(xv).get(capv).f32x4Gt().bitselect();
    f.get(xv).get(xv).get(xv).f32x4Eq().bitselect();
    f.v128Store();
  });
  f.loop(o, bytes4, bytes, 4, () => {
    f.get(out).get(o).add();
    f.get(x).get(o).add().f32Load().set(xs);
    f.f32(0);
    f.get(dy).get(o).add().f32Load().f32(0).get(xs).f32(0).f32Gt().select();
    f.get(xs).get(cap).f32Gt().select();
    f.get(xs).get(xs).get(xs).f32Eq().select();
    f.f32Store();
  });
  return f;
}

function tileRows(): Fn {
  const f = new Fn('tileRows', ['i32', 'i32', 'i32', 'i32']);
  const [src, dst, bytes, times] = f.params as [Local, Local, Local, Local];
  const done = f.local('i32');
  const total = f.local('i32');
  const chunk = f.local('i32');
  f.get(bytes).get(times).mul().set(total);
  f.get(dst).get(src).get(bytes).memoryCopy();
  f.get(bytes).set(done);
  // Copy what is written so far after itself until full.
  f.block(() => {
    f.loopBlock(() => {
      f.get(done).get(total).geS().brIf(1);
      f.get(total).get(done).sub().get(done).get(total).get(done).sub().get(done).ltS().select().set(chunk);
      f.get(dst).get(done).add().get(dst).get(chunk).memoryCopy();
      f.get(done).get(chunk).add().set(done);
      f.br(0);
    });
  });
  return f;
}

function chanSums(name: 'momentSums' | 'gradSums'): Fn {
  const f = new Fn(name, Array(7).fill('i32') as 'i32'[]);
  const [a, b, m, out, rows, c, R] = f.params as Local[] as [Local, Local, Local, Local, Local, Local, Local];
  const [r0, rEnd, r, o, row, cB, c4B, acc] = Array.from({ length: 8 }, () => f.local('i32'));
  const d = f.local('v128');
  const g = f.local('v128');
  const ds = f.local('f32');
  const gs = f.local('f32');
  f.get(c).i32(2).shl().set(cB);
  f.get(cB).i32(-16).and().set(c4B);
  f.get(out).set(acc);
  f.loop(r0, 0, rows, R, () => {
    f.get(r0).get(R).add().get(rows).get(r0).get(R).add().get(rows).ltS().select().set(rEnd);
    f.get(acc).i32(0).get(cB).i32(1).shl().memoryFill();
    f.get(r0).get(cB).mul().set(row);
    f.loop(r, r0, rEnd, 1, () => {
      f.loop(o, 0, c4B, 16, () => {
        if (name === 'momentSums') {
          f.get(a).get(row).add().get(o).add().v128Load().get(m).get(o).add().v128Load().f32x4Sub().set(d);
          f.get(acc).get(o).add().get(acc).get(o).add().v128Load().get(d).f32x4Add().v128Store();
          f.get(acc).get(cB).add().get(o).add().get(acc).get(cB).add().get(o).add().v128Load().get(d).get(d).f32x4Mul().f32x4Add().v128Store();
        } else {
          f.get(a).get(row).add().get(o).add().v128Load().set(g);
          f.get(b).get(row).add().get(o).add().v128Load().get(m).get(o).add().v128Load().f32x4Sub().set(d);
          f.get(acc).get(o).add().get(acc).get(o).add().v128Load().get(g).f32x4Add().v128Store();
          f.get(acc).get(cB).add().get(o).add().get(acc).get(cB).add().get(o).add().v128Load().get(g).get(d).f32x4Mul().f32x4Add().v128Store();
        }
      });
      f.loop(o, c4B, cB, 4, () => {
        if (name === 'momentSums') {
          f.get(a).get(row).add().get(o).add().f32Load().get(m).get(o).add().f32Load().f32Sub().set(ds);
          f.get(acc).get(o).add().get(acc).get(o).add().f32Load().get(ds).f32Add().f32Store();
          f.get(acc).get(cB).add().get(o).add().get(acc).get(cB).add().get(o).add().f32Load().get(ds).get(ds).f32Mul().f32Add().f32Store();
        } else {
          f.get(a).get(row).add().get(o).add().f32Load().set(gs);
          f.get(b).get(row).add().get(o).add().f32Load().get(m).get(o).add().f32Load().f32Sub().set(ds);
          f.get(acc).get(o).add().get(acc).get(o).add().f32Load().get(gs).f32Add().f32Store();
          f.get(acc).get(cB).add().get(o).add().get(acc).get(cB).add().get(o).add().f32Load().get(gs).get(ds).f32Mul().f32Add().f32Store();
        }
      });
      f.get(row).get(cB).add().set(row);
    });
    f.get(acc).get(cB).i32(1).shl().add().set(acc);
  });
  return f;
}

function chanAffine(): Fn {
  const f = new Fn('chanAffine', Array(10).fill('i32') as 'i32'[]);
  const [x, z, out, M, A, K, Bv, rows, c, hasZ] = f.params as Local[] as Local[];
  const [r, o, row, cB, c4B] = Array.from({ length: 5 }, () => f.local('i32'));
  f.get(c!).i32(2).shl().set(cB);
  f.get(cB).i32(-16).and().set(c4B);
  f.i32(0).set(row);
  const pass = (withZ: boolean) => {
    f.loop(r, 0, rows!, 1, () => {
      f.loop(o, 0, c4B, 16, () => {
        f.get(out!).get(row).add().get(o).add();
        f.get(x!).get(row).add().get(o).add().v128Load().get(M!).get(o).add().v128Load().f32x4Sub();
        f.get(A!).get(o).add().v128Load().f32x4Mul();
        if (withZ) f.get(z!).get(row).add().get(o).add().v128Load().get(K!).get(o).add().v128Load().f32x4Mul().f32x4Add();
        f.get(Bv!).get(o).add().v128Load().f32x4Add().v128Store();
      });
      f.loop(o, c4B, cB, 4, () => {
        f.get(out!).get(row).add().get(o).add();
        f.get(x!).get(row).add().get(o).add().f32Load().get(M!).get(o).add().f32Load().f32Sub();
        f.get(A!).get(o).add().f32Load().f32Mul();
        if (withZ) f.get(z!).get(row).add().get(o).add().f32Load().get(K!).get(o).add().f32Load().f32Mul().f32Add();
        f.get(Bv!).get(o).add().f32Load().f32Add().f32Store();
      });
      f.get(row).get(cB).add().set(row);
    });
  };
  f.get(hasZ!).ifElse(() => pass(true), () => pass(false));
  return f;
}

function col2im(): Fn {
  const f = new Fn('col2im', Array(12).fill('i32') as 'i32'[]);
  const [cols, dxp, nb, hp, wp, c, oh, ow, kh, kw, sh, sw] = f.params as Local[] as Local[];
  const [b, oy, ox, ky, k] = Array.from({ length: 5 }, () => f.local('i32'));
  const cB = f.local('i32');
  const rowB = f.local('i32');
  const row4B = f.local('i32');
  const src = f.local('i32');
  const xPix = f.local('i32');
  const dst = f.local('i32');
  f.get(c!).i32(2).shl().set(cB);
  f.get(kw!).get(cB).mul().set(rowB);
  f.get(rowB).i32(-16).and().set(row4B);
  f.get(dxp!).i32(0).get(nb!).get(hp!).mul().get(wp!).mul().get(cB).mul().memoryFill();
  f.get(cols!).set(src);
  f.loop(b, 0, nb!, 1, () => {
    f.loop(oy, 0, oh!, 1, () => {
      f.loop(ox, 0, ow!, 1, () => {
        f.get(dxp!).get(b).get(hp!).mul().get(oy).get(sh!).mul().add().get(wp!).mul().get(ox).get(sw!).mul().add().get(cB).mul().add().set(xPix);
        f.loop(ky, 0, kh!, 1, () => {
          f.get(xPix).get(ky).get(wp!).mul().get(cB).mul().add().set(dst);
          f.loop(k, 0, row4B, 16, () => {
            f.get(dst).get(k).add().get(dst).get(k).add().v128Load().get(src).get(k).add().v128Load().f32x4Add().v128Store();
          });
          f.loop(k, row4B, rowB, 4, () => {
            f.get(dst).get(k).add().get(dst).get(k).add().f32Load().get(src).get(k).add().f32Load().f32Add().f32Store();
          });
          f.get(src).get(rowB).add().set(src);
        });
      });
    });
  });
  return f;
}

function adam(): Fn {
  const f = new Fn('adam', Array(9).fill('i32') as 'i32'[]);
  const [w, g, m, v, wo, mo, vo, n, k] = f.params as Local[] as Local[];
  const o = f.local('i32');
  const bytes = f.local('i32');
  const bytes4 = f.local('i32');
  const K = Array.from({ length: 8 }, () => f.local('v128'));
  const S = Array.from({ length: 8 }, () => f.local('f32'));
  const [gv, mv, vv] = [f.local('v128'), f.local('v128'), f.local('v128')];
  const [gs, ms, vs] = [f.local('f32'), f.local('f32'), f.local('f32')];
  for (let i = 0; i < 8; i++) {
    f.get(k!).f32Load(i * 4).tee(S[i]!).f32x4Splat().set(K[i]!);
  }
  const [b1, omb1, b2, omb2, c1, c2, eps, nlr] = [0, 1, 2, 3, 4, 5, 6, 7];
  f.get(n!).i32(2).shl().set(bytes);
  f.get(bytes).i32(-16).and().set(bytes4);
  f.loop(o, 0, bytes4, 16, () => {
    f.get(g!).get(o).add().v128Load().set(gv);
    // m' = m·b1 + g·(1−b1)
    f.get(m!).get(o).add().v128Load().get(K[b1]!).f32x4Mul().get(gv).get(K[omb1]!).f32x4Mul().f32x4Add().set(mv);
    // v' = v·b2 + (g·g)·(1−b2)
    f.get(v!).get(o).add().v128Load().get(K[b2]!).f32x4Mul().get(gv).get(gv).f32x4Mul().get(K[omb2]!).f32x4Mul().f32x4Add().set(vv);
    f.get(mo!).get(o).add().get(mv).v128Store();
    f.get(vo!).get(o).add().get(vv).v128Store();
    // w' = ((m'/c1) / (sqrt(v'/c2) + eps))·(−lr) + w
    f.get(wo!).get(o).add();
    f.get(mv).get(K[c1]!).f32x4Div();
    f.get(vv).get(K[c2]!).f32x4Div().f32x4Sqrt().get(K[eps]!).f32x4Add();
    f.f32x4Div().get(K[nlr]!).f32x4Mul().get(w!).get(o).add().v128Load().f32x4Add().v128Store();
  });
  f.loop(o, bytes4, bytes, 4, () => {
    f.get(g!).get(o).add().f32Load().set(gs);
    f.get(m!).get(o).add().f32Load().get(S[b1]!).f32Mul().get(gs).get(S[omb1]!).f32Mul().f32Add().set(ms);
    f.get(v!).get(o).add().f32Load().get(S[b2]!).f32Mul().get(gs).get(gs).f32Mul().get(S[omb2]!).f32Mul().f32Add().set(vs);
    f.get(mo!).get(o).add().get(ms).f32Store();
    f.get(vo!).get(o).add().get(vs).f32Store();
    f.get(wo!).get(o).add();
    f.get(ms).get(S[c1]!).f32Div();
    f.get(vs).get(S[c2]!).f32Div().f32Sqrt().get(S[eps]!).f32Add();
    f.f32Div().get(S[nlr]!).f32Mul().get(w!).get(o).add().f32Load().f32Add().f32Store();
  });
  return f;
}

function zero(): Fn {
  const f = new Fn('zero', ['i32', 'i32']);
  const [dst, bytes] = f.params as [Local, Local];
  f.get(dst).i32(0).get(bytes).memoryFill();
  return f;
}

function colSum(): Fn {
  const f = new Fn('colSum', ['i32', 'i32', 'i32', 'i32']);
  const [src, dst, rows, cols] = f.params as [Local, Local, Local, Local];
  const r = f.local('i32');
  const o = f.local('i32');
  const row = f.local('i32');
  const bytes = f.local('i32');
  const bytes4 = f.local('i32');
  f.get(cols).i32(2).shl().set(bytes);
  f.get(bytes).i32(-16).and().set(bytes4);
  f.loop(o, 0, bytes4, 16, () => {
    f.get(dst).get(o).add().v128Zero().v128Store();
  });
  f.loop(o, bytes4, bytes, 4, () => {
    f.get(dst).get(o).add().f32(0).f32Store();
  });
  f.get(src).set(row);
  f.loop(r, 0, rows, 1, () => {
    f.loop(o, 0, bytes4, 16, () => {
      f.get(dst).get(o).add();
      f.get(dst).get(o).add().v128Load();
      f.get(row).get(o).add().v128Load();
      f.f32x4Add().v128Store();
    });
    f.loop(o, bytes4, bytes, 4, () => {
      f.get(dst).get(o).add();
      f.get(dst).get(o).add().f32Load();
      f.get(row).get(o).add().f32Load();
      f.f32Add().f32Store();
    });
    f.get(row).get(bytes).add().set(row);
  });
  return f;
}

function dwFilterGrad(): Fn {
  const f = new Fn('dwFilterGrad', Array(14).fill('i32') as 'i32'[]);
  const [xp, dy, out, nb, hp, wp, c, cs, oh, ow, kh, kw, sh, sw] = f.params as Local[] as Local[];
  const [b, oy, ox, ky, kx, o] = Array.from({ length: 6 }, () => f.local('i32'));
  const cB = f.local('i32'); // bytes of the channels processed
  const csB = f.local('i32'); // bytes of a pixel
  const dyp = f.local('i32');
  const xPix = f.local('i32'); // xp address of the window's top-left for this output pixel
  const xq = f.local('i32');
  const aq = f.local('i32');
  f.get(c!).i32(2).shl().set(cB);
  f.get(cs!).i32(2).shl().set(csB);
  // Zero the accumulators (out is [kh,kw,cs]; only our channels).
  f.get(out!).set(aq);
  f.loop(ky, 0, kh!, 1, () => {
    f.loop(kx, 0, kw!, 1, () => {
      f.get(aq).i32(0).get(cB).memoryFill();
      f.get(aq).get(csB).add().set(aq);
    });
  });
  f.get(dy!).set(dyp);
  f.loop(b, 0, nb!, 1, () => {
    f.loop(oy, 0, oh!, 1, () => {
      f.loop(ox, 0, ow!, 1, () => {
        // xPix = xp + ((b·hp + oy·sh)·wp + ox·sw)·csB
        f.get(xp!).get(b).get(hp!).mul().get(oy).get(sh!).mul().add().get(wp!).mul().get(ox).get(sw!).mul().add().get(csB).mul().add().set(xPix);
        f.get(out!).set(aq);
        f.loop(ky, 0, kh!, 1, () => {
          f.loop(kx, 0, kw!, 1, () => {
            f.get(xPix).get(ky).get(wp!).mul().get(kx).add().get(csB).mul().add().set(xq);
            f.loop(o, 0, cB, 16, () => {
              f.get(aq).get(o).add();
              f.get(aq).get(o).add().v128Load();
              f.get(xq).get(o).add().v128Load();
              f.get(dyp).get(o).add().v128Load();
              f.f32x4Mul().f32x4Add().v128Store();
            });
            f.get(aq).get(csB).add().set(aq);
          });
        });
        f.get(dyp).get(csB).add().set(dyp);
      });
    });
  });
  return f;
}

/** Window rows at least this long are copied by memory.copy. */
const IM2COL_MEMCOPY_BYTES = 256;

function im2col(): Fn {
  const f = new Fn('im2col', Array(12).fill('i32') as 'i32'[]);
  const [xp, dst, nb, hp, wp, c, oh, ow, kh, kw, sh, sw] = f.params as Local[] as Local[];
  const [b, oy, ox, ky, k] = Array.from({ length: 5 }, () => f.local('i32'));
  const cB = f.local('i32');
  const rowB = f.local('i32'); // bytes of one window row: kw·c floats, contiguous in xp
  const rowV = f.local('i32'); // rowB rounded down to whole vectors
  const d = f.local('i32');
  const xPix = f.local('i32');
  const sp = f.local('i32');
  f.get(c!).i32(2).shl().set(cB);
  f.get(kw!).get(cB).mul().set(rowB);
  f.get(rowB).i32(-16).and().set(rowV);
  f.get(dst!).set(d);
  f.loop(b, 0, nb!, 1, () => {
    f.loop(oy, 0, oh!, 1, () => {
      f.loop(ox, 0, ow!, 1, () => {
        f.get(xp!).get(b).get(hp!).mul().get(oy).get(sh!).mul().add().get(wp!).mul().get(ox).get(sw!).mul().add().get(cB).mul().add().set(xPix);
        f.loop(ky, 0, kh!, 1, () => {
          f.get(xPix).get(ky).get(wp!).mul().get(cB).mul().add().set(sp);
          // Short rows (a stem's 3 × 3 channels: 36 bytes) by vectors, then floats: memory.copy
          // costs a call per row.
          f.get(rowB).i32(IM2COL_MEMCOPY_BYTES).ltS().ifElse(
            () => {
              f.loop(k, 0, rowV, 16, () => {
                f.get(d).get(k).add().get(sp).get(k).add().v128Load().v128Store();
              });
              f.loop(k, rowV, rowB, 4, () => {
                f.get(d).get(k).add().get(sp).get(k).add().f32Load().f32Store();
              });
            },
            () => {
              f.get(d).get(sp).get(rowB).memoryCopy();
            },
          );
          f.get(d).get(rowB).add().set(d);
        });
      });
    });
  });
  return f;
}

function dwInputGrad(): Fn {
  const f = new Fn('dwInputGrad', Array(15).fill('i32') as 'i32'[]);
  const [dy, w, dx, nb, h, wd, c, oh, ow, kh, kw, sh, sw, pt, pl] = f.params as Local[] as Local[];
  const [b, oy, ox, ky, kx, o, iy, ix] = Array.from({ length: 8 }, () => f.local('i32'));
  const cB = f.local('i32');
  const dyp = f.local('i32');
  const rowP = f.local('i32');
  const xq = f.local('i32');
  const wq = f.local('i32');
  const total = f.local('i32');
  f.get(c!).i32(2).shl().set(cB);
  f.get(nb!).get(h!).mul().get(wd!).mul().get(cB).mul().set(total);
  f.get(dx!).i32(0).get(total).memoryFill();
  f.get(dy!).set(dyp);
  f.loop(b, 0, nb!, 1, () => {
    f.loop(oy, 0, oh!, 1, () => {
      f.loop(ox, 0, ow!, 1, () => {
        f.loop(ky, 0, kh!, 1, () => {
          f.get(oy).get(sh!).mul().get(pt!).sub().get(ky).add().set(iy);
          // Taps in the padding reach no input: skipped (one check per tap, amortised over the channels).
          f.get(iy).get(h!).i32LtU().ifElse(() => {
            f.get(dx!).get(b).get(h!).mul().get(iy).add().get(wd!).mul().i32(2).shl().get(c!).mul().add().set(rowP);
            f.loop(kx, 0, kw!, 1, () => {
              f.get(ox).get(sw!).mul().get(pl!).sub().get(kx).add().set(ix);
              f.get(ix).get(wd!).i32LtU().ifElse(() => {
                f.get(rowP).get(ix).get(cB).mul().add().set(xq);
                f.get(w!).get(ky).get(kw!).mul().get(kx).add().get(cB).mul().add().set(wq);
                f.loop(o, 0, cB, 16, () => {
                  f.get(xq).get(o).add();
                  f.get(xq).get(o).add().v128Load();
                  f.get(wq).get(o).add().v128Load();
                  f.get(dyp).get(o).add().v128Load();
                  f.f32x4Mul().f32x4Add().v128Store();
                });
              });
            });
          });
        });
        f.get(dyp).get(cB).add().set(dyp);
      });
    });
  });
  return f;
}

/**
 * MaxPool's gradient, dilation 1, c % 4 = 0: dx (zeroed first) gets each output's dy at the first
 * maximum of its window (strictly greater replaces; taps in the padding never count).
 */
function maxPoolGrad(): Fn {
  const f = new Fn('maxPoolGrad', Array(15).fill('i32') as 'i32'[]);
  const [x, dy, dx, nb, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl] = f.params as Local[] as Local[];
  const [b, oy, ox, o, ky, kx, iy, ix, cB, have, tap, gp, imgB, addr] = Array.from({ length: 14 }, () => f.local('i32'));
  const [best, at, v, m, g] = Array.from({ length: 5 }, () => f.local('v128'));
  f.get(c!).i32(2).shl().set(cB);
  f.get(h!).get(w!).mul().get(cB).mul().set(imgB);
  f.get(dx!).i32(0).get(nb!).get(imgB).mul().memoryFill();
  f.get(dy!).set(gp);
  f.loop(b, 0, nb!, 1, () => {
    f.loop(oy, 0, oh!, 1, () => {
      f.loop(ox, 0, ow!, 1, () => {
        f.loop(o, 0, cB, 16, () => {
          f.i32(0).set(have);
          f.loop(ky, 0, kh!, 1, () => {
            f.get(oy).get(sh!).mul().get(pt!).sub().get(ky).add().set(iy);
            // 0 ≤ iy < h as one unsigned compare: iy < h (unsigned) is false for negative iy.
            f.get(iy).get(h!).i32LtU().ifElse(() => {
              f.loop(kx, 0, kw!, 1, () => {
                f.get(ox).get(sw!).mul().get(pl!).sub().get(kx).add().set(ix);
                f.get(ix).get(w!).i32LtU().ifElse(() => {
                  // tap = byte offset of (iy, ix, o) within the batch's images
                  f.get(b).get(imgB).mul().get(iy).get(w!).mul().get(ix).add().get(cB).mul().add().get(o).add().set(tap);
                  f.get(x!).get(tap).add().v128Load().set(v);
                  f.get(have).ifElse(
                    () => {
                      f.get(v).get(best).f32x4Gt().set(m);
                      f.get(v).get(best).get(m).bitselect().set(best);
                      f.get(tap).i32x4Splat().get(at).get(m).bitselect().set(at);
                    },
                    () => {
                      f.get(v).set(best);
                      f.get(tap).i32x4Splat().set(at);
                      f.i32(1).set(have);
                    },
                  );
                });
              });
            });
          });
          f.get(have).ifElse(() => {
            f.get(gp).get(o).add().v128Load().set(g);
            for (let k = 0; k < 4; k++) {
              f.get(dx!).get(at).i32x4ExtractLane(k).add().i32(k * 4).add().set(addr);
              f.get(addr).get(addr).f32Load().get(g).f32x4ExtractLane(k).f32Add().f32Store();
            }
          });
        });
        f.get(gp).get(cB).add().set(gp);
      });
    });
  });
  return f;
}

const WINOGRAD_KERNELS: WinogradKernelName[] = WINOGRAD_TILES.flatMap((m) =>
  (['wgFilter', 'wgInput', 'wgOutput', 'wgDy', 'wgFilterOut'] as const).map((n): WinogradKernelName => `${n}${m}`),
);

const NAMES: KernelName[] = [
  'transpose2d', 'copyBlocks', 'zero', 'colSum', 'dwFilterGrad', 'gemm', 'dwInputGrad', 'im2col',
  'add', 'sub', 'mul', 'min', 'max', 'greater', 'greaterEqual', 'less', 'lessEqual', 'relu', 'relu6', 'step', 'reluGrad', 'tileRows',
  'momentSums', 'gradSums', 'chanAffine', 'col2im', 'adam', 'dwFilterGrad3x3', ...WINOGRAD_KERNELS, 'maxPoolGrad', 'dwConv3x3', 'gemmEpi', 'gemmBatch', 'gemmSum',
];

export interface Simd {
  /** The kernels on this thread. */
  k: SimdKernels;
  /** Threads the parallel helpers split work over (1: no pool). */
  threads: number;
  /** Workers sharing the memory; null for one thread or an unshared heap. */
  pool: SimdPool | null;
  /** The module has gemmFma (relaxed SIMD was on when it was compiled). */
  fma: boolean;
}

const cache = new WeakMap<WebAssembly.Memory, Simd>();

/**
 * The kernels bound to `memory` (compiled once per memory), with `threads` − 1 workers when the
 * memory is shared (tfjs's threaded build).
 */
export function simdKernels(memory: WebAssembly.Memory, threads = 1): Simd {
  let s = cache.get(memory);
  if (s) return s;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const fns = [
    transpose2d(), copyBlocks(), zero(), colSum(), dwFilterGrad(), gemm(), dwInputGrad(), im2col(),
    binary('add', (f) => f.f32x4Add(), (f) => f.f32Add()),
    binary('sub', (f) => f.f32x4Sub(), (f) => f.f32Sub()),
    binary('mul', (f) => f.f32x4Mul(), (f) => f.f32Mul()),
    binary('min', (f) => f.f32x4Min(), (f) => f.f32Min()),
    binary('max', (f) => f.f32x4Max(), (f) => f.f32Max()),
    binary('greater', null, (f) => f.f32Gt(), true),
    binary('greaterEqual', null, (f) => f.f32Ge(), true),
    binary('less', null, (f) => f.f32Lt(), true),
    binary('lessEqual', null, (f) => f.f32Le(), true),
    unary('relu', (f, x) => f.get(x).v128Zero().f32x4Pmax(), (f, x) => f.get(x).f32(0).f32Max()),
    unary(
      'relu6',
      (f, x, six) => f.get(x).v128Zero().f32x4Pmax().get(six).f32x4Pmin(),
      (f, x) => f.get(x).f32(0).f32Max().f32(6).f32Min(),
    ),
    unary(
      'step',
      // x > 0 ? 1 : 0, then x itself where x ≠ x (NaN)
      (f, x, _six, one) => f.get(one).v128Zero().get(x).v128Zero().f32x4Gt().bitselect().get(x).get(x).get(x).f32x4Eq().bitselect(),
      (f, x) => f.f32(1).f32(0).get(x).f32(0).f32Gt().select().get(x).get(x).get(x).f32Eq().select(),
    ),
    reluGrad(),
    tileRows(),
    chanSums('momentSums'),
    chanSums('gradSums'),
    chanAffine(),
    col2im(),
    adam(),
    dwFilterGrad3x3(),
    ...WINOGRAD_TILES.flatMap((m) => [wgFilter(m), wgInput(m), wgOutput(m), wgDy(m), wgFilterOut(m)]),
    maxPoolGrad(),
    dwConv3x3(),
    gemm(false, true),
  ];
  const fma = relaxedSimd().on;
  fns.push(gemmBatch(NAMES.indexOf('gemm'), fma ? NAMES.length : -1));
  fns.push(gemmSum(NAMES.indexOf('gemm'), fma ? NAMES.length : -1));
  if (fma) fns.push(gemm(true));
  const names: KernelName[] = fma ? [...NAMES, 'gemmFma'] : NAMES;
  if (fns.map((f) => f.name).join() !== names.join()) throw new Error('kernel list out of sync');
  const bytes = assemble(fns, { shared, minPages: 1 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const k = instance.exports as unknown as SimdKernels;
  const pool = shared && threads > 1 ? new SimdPool(bytes, memory, names, threads) : null;
  s = { k, threads: pool ? threads : 1, pool, fma };
  cache.set(memory, s);
  return s;
}
