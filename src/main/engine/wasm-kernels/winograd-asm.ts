// The transforms of Winograd's minimal filtering F(m×m, 3×3) (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015), four channels per vector, generated for m = 2, 3, 4 from
// the matrices of winograd-matrices.ts. A 3×3 stride-1 convolution becomes α² GEMMs (α = m + 2) over
// α×α input tiles: α² multiplies per m×m outputs instead of 9·m² (2.25× fewer for m = 2, 4× for 4).
//   U = G·g·Gᵀ (filter), V = Bᵀ·d·B (input tile), Y = Aᵀ·(U ⊙ V)·A (output tile).
// The filter gradient is the transposed algorithm on the same tiles of x:
//   dW = Gᵀ·(Σ_t (A·dy_t·Aᵀ) ⊙ V_t)·G,
// since ⟨dy_t, Aᵀ·(U ⊙ V_t)·A⟩ = ⟨(A·dy_t·Aᵀ) ⊙ V_t, G·g·Gᵀ⟩ = ⟨Gᵀ·((A·dy_t·Aᵀ) ⊙ V_t)·G, g⟩.
// Layouts: a plane ξ = α·i + j per transform coefficient, rows (tiles or input channels) of channel
// vectors within a plane, so each plane is a row-major GEMM operand.
import { Fn, type Local } from './asm.js';
import { winogradMatrices, type WinogradTile } from './winograd-matrices.js';

const transpose = (a: number[][]) => a[0]!.map((_, j) => a.map((r) => r[j]!));

/** Splatted constants of a function, made at its start: every coefficient other than 0 and ±1. */
class Constants {
  private readonly locals = new Map<number, Local>();
  constructor(
    private readonly f: Fn,
    matrices: number[][][],
  ) {
    for (const m of matrices) {
      for (const row of m) {
        for (const c of row) {
          for (const v of [c, Math.abs(c)]) {
            if (v === 0 || v === 1 || v === -1 || this.locals.has(v)) continue;
            const l = f.local('v128');
            f.f32(v).f32x4Splat().set(l);
            this.locals.set(v, l);
          }
        }
      }
    }
  }
  get(v: number): Local {
    return this.locals.get(v)!;
  }
}

/** out[i] = Σ_j M[i][j]·x[j] on v128 locals: ±1 as add/sub, others through a splatted constant. */
function applyVec(f: Fn, k: Constants, M: number[][], x: Local[], out: Local[]): void {
  M.forEach((row, i) => {
    const terms = row.map((c, j) => [c, j] as const).filter(([c]) => c !== 0);
    if (terms.length === 0) {
      f.v128Zero().set(out[i]!);
      return;
    }
    // Lead with a +1 term, else a positive one, else any (a signed constant).
    const lead = terms.find(([c]) => c === 1) ?? terms.find(([c]) => c > 0) ?? terms[0]!;
    const [c0, j0] = lead;
    if (c0 === 1) f.get(x[j0]!);
    else f.get(x[j0]!).get(k.get(c0)).f32x4Mul();
    for (const [c, j] of terms) {
      if (j === j0) continue;
      if (c === 1) f.get(x[j]!).f32x4Add();
      else if (c === -1) f.get(x[j]!).f32x4Sub();
      else if (c > 0) f.get(x[j]!).get(k.get(c)).f32x4Mul().f32x4Add();
      else f.get(x[j]!).get(k.get(-c)).f32x4Mul().f32x4Sub();
    }
    f.set(out[i]!);
  });
}

/**
 * out = M·X·Mᵀ for a k×k grid X (row-major locals) and an n×k M: into n×n locals (row-major).
 * `tmp` holds n·k locals.
 */
function apply2d(f: Fn, k: Constants, M: number[][], x: Local[], tmp: Local[], out: Local[]): void {
  const n = M.length;
  const kk = M[0]!.length;
  // Columns first: tmp[i][c] = Σ_j M[i][j]·x[j][c].
  for (let c = 0; c < kk; c++) {
    const col = Array.from({ length: kk }, (_, j) => x[j * kk + c]!);
    const dst = Array.from({ length: n }, (_, i) => tmp[i * kk + c]!);
    applyVec(f, k, M, col, dst);
  }
  // Then rows: out[i][l] = Σ_j M[l][j]·tmp[i][j].
  for (let i = 0; i < n; i++) applyVec(f, k, M, tmp.slice(i * kk, i * kk + kk), out.slice(i * n, i * n + n));
}

const v128s = (f: Fn, n: number) => Array.from({ length: n }, () => f.local('v128'));
const i32s = (f: Fn, n: number) => Array.from({ length: n }, () => f.local('i32'));

/**
 * wgFilter{m}(w, u, cin, cout, plane): U[ξ][ci][co] = (G·w[:, :, ci, co]·Gᵀ)[ξ] for ci < cin and all
 * cout (% 4 = 0) output channels. `plane` (floats) is both the distance between w's taps and between
 * U's planes, i.e. the full cin·cout: a part of the input channels is transformed with the same one.
 */
export function wgFilter(m: WinogradTile): Fn {
  const W = winogradMatrices(m);
  const a = W.alpha;
  const f = new Fn(`wgFilter${m}`, ['i32', 'i32', 'i32', 'i32', 'i32']);
  const [w, u, cin, cout, plane] = f.params as [Local, Local, Local, Local, Local];
  const k = new Constants(f, [W.g]);
  const [ci, o, coutB, planeB, p] = i32s(f, 5);
  const g = v128s(f, 9);
  const tmp = v128s(f, a * 3);
  const out = v128s(f, a * a);
  f.get(cout).i32(2).shl().set(coutB);
  f.get(plane).i32(2).shl().set(planeB);
  f.loop(ci, 0, cin, 1, () => {
    f.loop(o, 0, coutB, 16, () => {
      f.get(w).get(ci).get(coutB).mul().add().get(o).add().set(p);
      for (let t = 0; t < 9; t++) {
        f.get(p).v128Load().set(g[t]!);
        if (t < 8) f.get(p).get(planeB).add().set(p);
      }
      apply2d(f, k, W.g, g, tmp, out);
      f.get(u).get(ci).get(coutB).mul().add().get(o).add().set(p);
      for (let x = 0; x < a * a; x++) {
        f.get(p).get(out[x]!).v128Store();
        if (x < a * a - 1) f.get(p).get(planeB).add().set(p);
      }
    });
  });
  return f;
}

/**
 * A transform of k×k tiles taken every m pixels: dst[ξ][t][ch] = (M·d·Mᵀ)[ξ] for the tile d at rows
 * m·ty.., columns m·tx.. of src [nb, hp, wp, c] (c % 4 = 0), tile t = (b·th + ty)·tw + tx, for an n×k M.
 * Arguments (src, dst, nb, hp, wp, c, th, tw, stride); stride: floats between dst's planes.
 */
function tileTransform(name: string, m: number, M: number[][]): Fn {
  const n = M.length;
  const kk = M[0]!.length;
  const f = new Fn(name, Array(9).fill('i32') as 'i32'[]);
  const [src, dst, nb, hp, wp, c, th, tw, stride] = f.params as Local[] as Local[];
  const k = new Constants(f, [M]);
  const [b, ty, tx, o, cB, rowB, sB, dt, base, p, q, stepB] = i32s(f, 12);
  const d = v128s(f, kk * kk);
  const tmp = v128s(f, n * kk);
  const out = v128s(f, n * n);
  f.get(c!).i32(2).shl().set(cB);
  f.get(wp!).get(cB).mul().set(rowB);
  f.get(stride!).i32(2).shl().set(sB);
  f.get(cB).i32(m).mul().set(stepB);
  f.get(dst!).set(dt);
  f.loop(b, 0, nb!, 1, () => {
    f.loop(ty, 0, th!, 1, () => {
      // base = src + (b·hp + m·ty)·wp·c floats
      f.get(src!).get(b).get(hp!).mul().get(ty).i32(m).mul().add().get(rowB).mul().add().set(base);
      f.loop(tx, 0, tw!, 1, () => {
        f.loop(o, 0, cB, 16, () => {
          for (let i = 0; i < kk; i++) {
            if (i === 0) f.get(base).get(tx).get(stepB).mul().add().get(o).add().set(p);
            else f.get(p).get(rowB).add().set(p);
            f.get(p).set(q);
            for (let j = 0; j < kk; j++) {
              f.get(q).v128Load().set(d[i * kk + j]!);
              if (j < kk - 1) f.get(q).get(cB).add().set(q);
            }
          }
          apply2d(f, k, M, d, tmp, out);
          f.get(dt).get(o).add().set(q);
          for (let x = 0; x < n * n; x++) {
            f.get(q).get(out[x]!).v128Store();
            if (x < n * n - 1) f.get(q).get(sB).add().set(q);
          }
        });
        f.get(dt).get(cB).add().set(dt);
      });
    });
  });
  return f;
}

/**
 * wgInput{m}(xp, v, nb, hp, wp, c, th, tw, vStride): V[ξ][t][ch] = (Bᵀ·d·B)[ξ] for the α×α tile d
 * at rows m·ty.., columns m·tx.. of the padded input xp [nb, hp, wp, c] (c % 4 = 0), tile t =
 * (b·th + ty)·tw + tx. vStride: floats between V's planes.
 */
export function wgInput(m: WinogradTile): Fn {
  return tileTransform(`wgInput${m}`, m, winogradMatrices(m).bt);
}

/**
 * wgOutput{m}(mm, y, bias, nb, oh, ow, c, th, tw, mStride, hasBias, lo, hi): y[b, m·ty + i, m·tx + j, ch]
 * = clamp((Aᵀ·M_t·A)[i][j] + bias[ch], lo, hi) for the tiles of M [α²][nb·th·tw][c] (c % 4 = 0),
 * dropping the outputs past oh, ow. lo, hi: float32 bits (−∞/+∞ for none, 0 for relu, 0/6 for
 * relu6; NaN passes through as in tfjs's activations).
 */
export function wgOutput(m: WinogradTile): Fn {
  const W = winogradMatrices(m);
  const a = W.alpha;
  const f = new Fn(`wgOutput${m}`, Array(13).fill('i32') as 'i32'[]);
  const [mm, y, bias, nb, oh, ow, c, th, tw, mStride, hasBias, loBits, hiBits] = f.params as Local[] as Local[];
  const k = new Constants(f, [W.at]);
  const [b, ty, tx, o, cB, msB, mt, q, yRow, yp, owB, rows, cols] = i32s(f, 13);
  const mv = v128s(f, a * a);
  const tmp = v128s(f, m * a);
  const out = v128s(f, m * m);
  const [lo, hi, bv] = v128s(f, 3) as [Local, Local, Local];
  f.get(loBits!).f32ReinterpretI32().f32x4Splat().set(lo);
  f.get(hiBits!).f32ReinterpretI32().f32x4Splat().set(hi);
  f.get(c!).i32(2).shl().set(cB);
  f.get(mStride!).i32(2).shl().set(msB);
  f.get(ow!).get(cB).mul().set(owB);
  f.get(mm!).set(mt);
  f.loop(b, 0, nb!, 1, () => {
    f.loop(ty, 0, th!, 1, () => {
      // yRow = y + ((b·oh + m·ty)·ow)·c floats; rows = the tile's rows inside the map.
      f.get(y!).get(b).get(oh!).mul().get(ty).i32(m).mul().add().get(owB).mul().add().set(yRow);
      f.get(oh!).get(ty).i32(m).mul().sub().set(rows);
      f.loop(tx, 0, tw!, 1, () => {
        f.get(yRow).get(tx).i32(m).mul().get(cB).mul().add().set(yp);
        f.get(ow!).get(tx).i32(m).mul().sub().set(cols);
        f.loop(o, 0, cB, 16, () => {
          f.get(mt).get(o).add().set(q);
          for (let x = 0; x < a * a; x++) {
            f.get(q).v128Load().set(mv[x]!);
            if (x < a * a - 1) f.get(q).get(msB).add().set(q);
          }
          apply2d(f, k, W.at, mv, tmp, out);
          f.get(hasBias!).ifElse(
            () => { f.get(bias!).get(o).add().v128Load().set(bv); },
            () => { f.v128Zero().set(bv); },
          );
          for (let i = 0; i < m; i++) {
            const store = () => {
              for (let j = 0; j < m; j++) {
                const put = () => {
                  f.get(yp).get(o).add();
                  if (i > 0) f.get(owB).i32(i).mul().add();
                  if (j > 0) f.get(cB).i32(j).mul().add();
                  f.get(out[i * m + j]!).get(bv).f32x4Add().get(lo).f32x4Pmax().get(hi).f32x4Pmin().v128Store();
                };
                if (j === 0) put();
                else f.i32(j).get(cols).ltS().ifElse(put);
              }
            };
            if (i === 0) store();
            else f.i32(i).get(rows).ltS().ifElse(store);
          }
        });
        f.get(mt).get(cB).add().set(mt);
      });
    });
  });
  return f;
}

/**
 * wgDy{m}(dyp, u, nb, hp, wp, c, th, tw, uStride): U[ξ][t][ch] = (A·e·Aᵀ)[ξ] for the m×m tile e of
 * dyp [nb, hp, wp, c] at rows m·ty.., columns m·tx.. (dyp holds zeros past the convolution's outputs).
 */
export function wgDy(m: WinogradTile): Fn {
  return tileTransform(`wgDy${m}`, m, transpose(winogradMatrices(m).at));
}

/**
 * wgFilterOut{m}(mm, dw, cin, cout, plane): dw[ky][kx][ci][co] = (Gᵀ·M[:, ci, co]·G)[ky][kx] for the
 * α² planes M [α²][cin][cout] (cout % 4 = 0). `plane`: floats between M's planes and between dw's
 * taps (the full cin·cout, so a part of the input channels uses the same).
 */
export function wgFilterOut(m: WinogradTile): Fn {
  const W = winogradMatrices(m);
  const a = W.alpha;
  const GT = transpose(W.g); // 3 × α
  const f = new Fn(`wgFilterOut${m}`, ['i32', 'i32', 'i32', 'i32', 'i32']);
  const [mm, dw, cin, cout, plane] = f.params as [Local, Local, Local, Local, Local];
  const k = new Constants(f, [GT]);
  const [ci, o, coutB, planeB, p] = i32s(f, 5);
  const mv = v128s(f, a * a);
  const tmp = v128s(f, 3 * a);
  const out = v128s(f, 9);
  f.get(cout).i32(2).shl().set(coutB);
  f.get(plane).i32(2).shl().set(planeB);
  f.loop(ci, 0, cin, 1, () => {
    f.loop(o, 0, coutB, 16, () => {
      f.get(mm).get(ci).get(coutB).mul().add().get(o).add().set(p);
      for (let x = 0; x < a * a; x++) {
        f.get(p).v128Load().set(mv[x]!);
        if (x < a * a - 1) f.get(p).get(planeB).add().set(p);
      }
      apply2d(f, k, GT, mv, tmp, out);
      f.get(dw).get(ci).get(coutB).mul().add().get(o).add().set(p);
      for (let t = 0; t < 9; t++) {
        f.get(p).get(out[t]!).v128Store();
        if (t < 8) f.get(p).get(planeB).add().set(p);
      }
    });
  });
  return f;
}
