// The transforms of Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015), four channels per vector. A 3×3 stride-1 convolution
// becomes 16 GEMMs over 4×4 input tiles: 16 multiplies per 2×2 outputs instead of 36, so 2.25×
// less arithmetic where the maps are large enough that few tiles hang over their edge.
//   U = G·g·Gᵀ (filter), V = Bᵀ·d·B (input tile), Y = Aᵀ·(U ⊙ V)·A (output tile), with
//   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
// Layouts: a plane ξ = 4·i + j per transform coefficient, rows (tiles or input channels) of
// channel vectors within a plane, so each plane is a row-major GEMM operand.
import { Fn, type Local } from './asm.js';

/**
 * wgFilter(w, u, cin, cout, plane): U[ξ][ci][co] = (G·w[:, :, ci, co]·Gᵀ)[ξ] for ci < cin and all
 * cout (% 4 = 0) output channels. `plane` (floats) is both the distance between w's taps and between
 * U's planes, i.e. the full cin·cout: a part of the input channels is transformed with the same one.
 */
export function wgFilter(): Fn {
  const f = new Fn('wgFilter', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const [w, u, cin, cout, plane] = f.params as [Local, Local, Local, Local, Local];
  const [ci, o, coutB, planeB, src, dst] = Array.from({ length: 6 }, () => f.local('i32'));
  const g = Array.from({ length: 9 }, () => f.local('v128'));
  const t = Array.from({ length: 12 }, () => f.local('v128')); // t[r·3 + kx] = (G·g)[r][kx]
  const half = f.local('v128');
  f.f32(0.5).f32x4Splat().set(half);
  f.get(cout).i32(2).shl().set(coutB);
  f.get(plane).i32(2).shl().set(planeB);
  // The 4 rows of G applied to 3 values a, b, c.
  const gRows = (a: Local, b: Local, c: Local, out: Local[]) => {
    f.get(a).set(out[0]!);
    f.get(a).get(b).f32x4Add().get(c).f32x4Add().get(half).f32x4Mul().set(out[1]!);
    f.get(a).get(b).f32x4Sub().get(c).f32x4Add().get(half).f32x4Mul().set(out[2]!);
    f.get(c).set(out[3]!);
  };
  f.loop(ci, 0, cin, 1, () => {
    f.loop(o, 0, coutB, 16, () => {
      f.get(w).get(ci).get(coutB).mul().add().get(o).add().set(src);
      for (let k = 0; k < 9; k++) {
        f.get(src).v128Load().set(g[k]!);
        if (k < 8) f.get(src).get(planeB).add().set(src);
      }
      // Columns of g (over ky) first, then rows of the result (over kx).
      for (let kx = 0; kx < 3; kx++) gRows(g[kx]!, g[3 + kx]!, g[6 + kx]!, [t[kx]!, t[3 + kx]!, t[6 + kx]!, t[9 + kx]!]);
      const uRow = Array.from({ length: 4 }, () => [g[0]!, g[1]!, g[2]!, g[3]!]);
      f.get(u).get(ci).get(coutB).mul().add().get(o).add().set(dst);
      for (let r = 0; r < 4; r++) {
        // g's locals are free again: reuse four of them for this row's coefficients.
        gRows(t[r * 3]!, t[r * 3 + 1]!, t[r * 3 + 2]!, uRow[r]!);
        for (let c = 0; c < 4; c++) {
          f.get(dst).get(uRow[r]![c]!).v128Store();
          if (r < 3 || c < 3) f.get(dst).get(planeB).add().set(dst);
        }
      }
    });
  });
  return f;
}

/**
 * wgInput(xp, v, nb, hp, wp, c, th, tw, vStride): V[ξ][t][ch] = (Bᵀ·d·B)[ξ] for the 4×4 tile d at
 * rows 2·ty.., columns 2·tx.. of the padded input xp [nb, hp, wp, c] (c % 4 = 0), tile t = (b·th + ty)·tw
 * + tx. vStride: floats between V's planes.
 */
export function wgInput(): Fn {
  const f = new Fn('wgInput', Array(9).fill('i32') as 'i32'[]);
  const [xp, v, nb, hp, wp, c, th, tw, vStride] = f.params as Local[] as Local[];
  const [b, ty, tx, o, cB, cB2, cB3, rowB, vsB, vt, base, q] = Array.from({ length: 12 }, () => f.local('i32'));
  const r = Array.from({ length: 4 }, () => f.local('i32'));
  const d = Array.from({ length: 16 }, () => f.local('v128'));
  const tv = Array.from({ length: 16 }, () => f.local('v128'));
  f.get(c!).i32(2).shl().set(cB);
  f.get(cB).i32(1).shl().set(cB2);
  f.get(cB2).get(cB).add().set(cB3);
  f.get(wp!).get(cB).mul().set(rowB);
  f.get(vStride!).i32(2).shl().set(vsB);
  f.get(v!).set(vt);
  f.loop(b, 0, nb!, 1, () => {
    f.loop(ty, 0, th!, 1, () => {
      // base = xp + (b·hp + 2·ty)·wp·c floats
      f.get(xp!).get(b).get(hp!).mul().get(ty).i32(1).shl().add().get(rowB).mul().add().set(base);
      f.loop(tx, 0, tw!, 1, () => {
        f.loop(o, 0, cB, 16, () => {
          f.get(base).get(tx).get(cB2).mul().add().get(o).add().set(r[0]!);
          for (let i = 1; i < 4; i++) f.get(r[i - 1]!).get(rowB).add().set(r[i]!);
          for (let i = 0; i < 4; i++) {
            f.get(r[i]!).v128Load().set(d[i * 4]!);
            f.get(r[i]!).get(cB).add().v128Load().set(d[i * 4 + 1]!);
            f.get(r[i]!).get(cB2).add().v128Load().set(d[i * 4 + 2]!);
            f.get(r[i]!).get(cB3).add().v128Load().set(d[i * 4 + 3]!);
          }
          // Bᵀ over rows: t[0] = d0 − d2, t[1] = d1 + d2, t[2] = d2 − d1, t[3] = d1 − d3.
          const bt = (a: Local[], out: Local[]) => {
            f.get(a[0]!).get(a[2]!).f32x4Sub().set(out[0]!);
            f.get(a[1]!).get(a[2]!).f32x4Add().set(out[1]!);
            f.get(a[2]!).get(a[1]!).f32x4Sub().set(out[2]!);
            f.get(a[1]!).get(a[3]!).f32x4Sub().set(out[3]!);
          };
          for (let j = 0; j < 4; j++) bt([d[j]!, d[4 + j]!, d[8 + j]!, d[12 + j]!], [tv[j]!, tv[4 + j]!, tv[8 + j]!, tv[12 + j]!]);
          // Then over columns, into d's locals (free again), stored plane by plane.
          for (let i = 0; i < 4; i++) bt([tv[i * 4]!, tv[i * 4 + 1]!, tv[i * 4 + 2]!, tv[i * 4 + 3]!], [d[i * 4]!, d[i * 4 + 1]!, d[i * 4 + 2]!, d[i * 4 + 3]!]);
          f.get(vt).get(o).add().set(q);
          for (let k = 0; k < 16; k++) {
            f.get(q).get(d[k]!).v128Store();
            if (k < 15) f.get(q).get(vsB).add().set(q);
          }
        });
        f.get(vt).get(cB).add().set(vt);
      });
    });
  });
  return f;
}

/**
 * wgOutput(m, y, bias, nb, oh, ow, c, th, tw, mStride, hasBias, lo, hi): y[b, 2·ty + dy, 2·tx + dx, ch]
 * = clamp((Aᵀ·m_t·A)[dy][dx] + bias[ch], lo, hi) for the tiles of M [16][nb·th·tw][c] (c % 4 = 0),
 * dropping the outputs past oh, ow. lo, hi: float32 bits (−∞/+∞ for none, 0 for relu, 0/6 for relu6;
 * NaN passes through as in tfjs's activations).
 */
export function wgOutput(): Fn {
  const f = new Fn('wgOutput', Array(13).fill('i32') as 'i32'[]);
  const [m, y, bias, nb, oh, ow, c, th, tw, mStride, hasBias, loBits, hiBits] = f.params as Local[] as Local[];
  const [b, ty, tx, o, cB, msB, mt, q, yRow, yp, rowOk, colOk, owB] = Array.from({ length: 13 }, () => f.local('i32'));
  const mv = Array.from({ length: 16 }, () => f.local('v128'));
  const s = Array.from({ length: 8 }, () => f.local('v128'));
  const out = Array.from({ length: 4 }, () => f.local('v128'));
  const [lo, hi, bv] = [f.local('v128'), f.local('v128'), f.local('v128')];
  f.get(loBits!).f32ReinterpretI32().f32x4Splat().set(lo);
  f.get(hiBits!).f32ReinterpretI32().f32x4Splat().set(hi);
  f.get(c!).i32(2).shl().set(cB);
  f.get(mStride!).i32(2).shl().set(msB);
  f.get(ow!).get(cB).mul().set(owB);
  f.get(m!).set(mt);
  f.loop(b, 0, nb!, 1, () => {
    f.loop(ty, 0, th!, 1, () => {
      // yRow = y + ((b·oh + 2·ty)·ow)·c floats; the tile's second row exists when 2·ty + 1 < oh.
      f.get(y!).get(b).get(oh!).mul().get(ty).i32(1).shl().add().get(owB).mul().add().set(yRow);
      f.get(ty).i32(1).shl().i32(1).add().get(oh!).ltS().set(rowOk);
      f.loop(tx, 0, tw!, 1, () => {
        f.get(yRow).get(tx).get(cB).mul().i32(1).shl().add().set(yp);
        f.get(tx).i32(1).shl().i32(1).add().get(ow!).ltS().set(colOk);
        f.loop(o, 0, cB, 16, () => {
          f.get(mt).get(o).add().set(q);
          for (let k = 0; k < 16; k++) {
            f.get(q).v128Load().set(mv[k]!);
            if (k < 15) f.get(q).get(msB).add().set(q);
          }
          // Aᵀ over rows: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (per column j).
          for (let j = 0; j < 4; j++) {
            f.get(mv[j]!).get(mv[4 + j]!).f32x4Add().get(mv[8 + j]!).f32x4Add().set(s[j]!);
            f.get(mv[4 + j]!).get(mv[8 + j]!).f32x4Sub().get(mv[12 + j]!).f32x4Sub().set(s[4 + j]!);
          }
          f.get(hasBias!).ifElse(
            () => { f.get(bias!).get(o).add().v128Load().set(bv); },
            () => { f.v128Zero().set(bv); },
          );
          for (let i = 0; i < 2; i++) {
            const r = s.slice(i * 4, i * 4 + 4);
            f.get(r[0]!).get(r[1]!).f32x4Add().get(r[2]!).f32x4Add();
            f.get(bv).f32x4Add().get(lo).f32x4Pmax().get(hi).f32x4Pmin().set(out[i * 2]!);
            f.get(r[1]!).get(r[2]!).f32x4Sub().get(r[3]!).f32x4Sub();
            f.get(bv).f32x4Add().get(lo).f32x4Pmax().get(hi).f32x4Pmin().set(out[i * 2 + 1]!);
          }
          f.get(yp).get(o).add().get(out[0]!).v128Store();
          f.get(colOk).ifElse(() => { f.get(yp).get(o).add().get(cB).add().get(out[1]!).v128Store(); });
          f.get(rowOk).ifElse(() => {
            f.get(yp).get(o).add().get(owB).add().get(out[2]!).v128Store();
            f.get(colOk).ifElse(() => { f.get(yp).get(o).add().get(owB).add().get(cB).add().get(out[3]!).v128Store(); });
          });
        });
        f.get(mt).get(cB).add().set(mt);
      });
    });
  });
  return f;
}

// The filter gradient is the transposed algorithm, F(3×3, 2×2): with the same V of x's tiles,
//   dW = Gᵀ·(Σ_t (A·dy_t·Aᵀ) ⊙ V_t)·G,
// since ⟨dy_t, Aᵀ·(U ⊙ V_t)·A⟩ = ⟨(A·dy_t·Aᵀ) ⊙ V_t, G·g·Gᵀ⟩ = ⟨Gᵀ·((A·dy_t·Aᵀ) ⊙ V_t)·G, g⟩.

/**
 * wgDy(dyp, u, nb, hp, wp, c, th, tw, uStride): U[ξ][t][ch] = (A·e·Aᵀ)[ξ] for the 2×2 tile e of dyp
 * [nb, hp, wp, c] at rows 2·ty.., columns 2·tx.. (dyp holds zeros past the convolution's outputs),
 * A = [1 0; 1 1; 1 −1; 0 −1].
 */
export function wgDy(): Fn {
  const f = new Fn('wgDy', Array(9).fill('i32') as 'i32'[]);
  const [dyp, u, nb, hp, wp, c, th, tw, uStride] = f.params as Local[] as Local[];
  const [b, ty, tx, o, cB, rowB, usB, ut, base, p, q] = Array.from({ length: 11 }, () => f.local('i32'));
  const e = Array.from({ length: 4 }, () => f.local('v128'));
  const r = Array.from({ length: 8 }, () => f.local('v128')); // r[i·2 + j] = (A·e)[i][j]
  const zero = f.local('v128');
  const out = Array.from({ length: 4 }, () => f.local('v128'));
  f.v128Zero().set(zero);
  f.get(c!).i32(2).shl().set(cB);
  f.get(wp!).get(cB).mul().set(rowB);
  f.get(uStride!).i32(2).shl().set(usB);
  f.get(u!).set(ut);
  // A applied to two values a, b: [a, a + b, a − b, −b].
  const aRows = (a: Local, bb: Local, dst: Local[]) => {
    f.get(a).set(dst[0]!);
    f.get(a).get(bb).f32x4Add().set(dst[1]!);
    f.get(a).get(bb).f32x4Sub().set(dst[2]!);
    f.get(zero).get(bb).f32x4Sub().set(dst[3]!);
  };
  f.loop(b, 0, nb!, 1, () => {
    f.loop(ty, 0, th!, 1, () => {
      f.get(dyp!).get(b).get(hp!).mul().get(ty).i32(1).shl().add().get(rowB).mul().add().set(base);
      f.loop(tx, 0, tw!, 1, () => {
        f.loop(o, 0, cB, 16, () => {
          f.get(base).get(tx).get(cB).mul().i32(1).shl().add().get(o).add().set(p);
          f.get(p).v128Load().set(e[0]!);
          f.get(p).get(cB).add().v128Load().set(e[1]!);
          f.get(p).get(rowB).add().v128Load().set(e[2]!);
          f.get(p).get(rowB).add().get(cB).add().v128Load().set(e[3]!);
          for (let j = 0; j < 2; j++) {
            const col = [r[j]!, r[2 + j]!, r[4 + j]!, r[6 + j]!];
            aRows(e[j]!, e[2 + j]!, col);
          }
          f.get(ut).get(o).add().set(q);
          for (let i = 0; i < 4; i++) {
            aRows(r[i * 2]!, r[i * 2 + 1]!, out);
            for (let j = 0; j < 4; j++) {
              f.get(q).get(out[j]!).v128Store();
              if (i < 3 || j < 3) f.get(q).get(usB).add().set(q);
            }
          }
        });
        f.get(ut).get(cB).add().set(ut);
      });
    });
  });
  return f;
}

/**
 * wgFilterOut(m, dw, cin, cout, plane): dw[ky][kx][ci][co] = (Gᵀ·M[:, ci, co]·G)[ky][kx] for the 16
 * planes M [16][cin][cout] (cout % 4 = 0). `plane`: floats between M's planes and between dw's taps
 * (the full cin·cout, so a part of the input channels uses the same).
 */
export function wgFilterOut(): Fn {
  const f = new Fn('wgFilterOut', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const [m, dw, cin, cout, plane] = f.params as [Local, Local, Local, Local, Local];
  const [ci, o, coutB, planeB, p, q] = Array.from({ length: 6 }, () => f.local('i32'));
  const mv = Array.from({ length: 16 }, () => f.local('v128'));
  const t = Array.from({ length: 12 }, () => f.local('v128')); // t[r·4 + j] = (Gᵀ·M)[r][j]
  const out = Array.from({ length: 3 }, () => f.local('v128'));
  const half = f.local('v128');
  f.f32(0.5).f32x4Splat().set(half);
  f.get(cout).i32(2).shl().set(coutB);
  f.get(plane).i32(2).shl().set(planeB);
  // Gᵀ applied to four values: [a + ½(b + c), ½(b − c), ½(b + c) + d].
  const gtRows = (a: Local, b: Local, c: Local, d: Local, dst: Local[]) => {
    f.get(b).get(c).f32x4Add().get(half).f32x4Mul().set(dst[2]!); // ½(b + c), kept for rows 0 and 2
    f.get(a).get(dst[2]!).f32x4Add().set(dst[0]!);
    f.get(b).get(c).f32x4Sub().get(half).f32x4Mul().set(dst[1]!);
    f.get(dst[2]!).get(d).f32x4Add().set(dst[2]!);
  };
  f.loop(ci, 0, cin, 1, () => {
    f.loop(o, 0, coutB, 16, () => {
      f.get(m).get(ci).get(coutB).mul().add().get(o).add().set(p);
      for (let k = 0; k < 16; k++) {
        f.get(p).v128Load().set(mv[k]!);
        if (k < 15) f.get(p).get(planeB).add().set(p);
      }
      for (let j = 0; j < 4; j++) gtRows(mv[j]!, mv[4 + j]!, mv[8 + j]!, mv[12 + j]!, [t[j]!, t[4 + j]!, t[8 + j]!]);
      f.get(dw).get(ci).get(coutB).mul().add().get(o).add().set(q);
      for (let r = 0; r < 3; r++) {
        gtRows(t[r * 4]!, t[r * 4 + 1]!, t[r * 4 + 2]!, t[r * 4 + 3]!, out);
        for (let k = 0; k < 3; k++) {
          f.get(q).get(out[k]!).v128Store();
          if (r < 2 || k < 2) f.get(q).get(planeB).add().set(q);
        }
      }
    });
  });
  return f;
}
