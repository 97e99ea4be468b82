// The forward 3×3 depthwise convolution (channel multiplier 1, C % 4 = 0) with bias and relu /
// relu6 in its output loop. XNNPACK's depthwise kernel in tfjs-backend-wasm 4.22 rebuilds its
// indirection buffer (nine pointers per output pixel) on every call, since every call gets a fresh
// input, and loads the nine weights again for every output.
//
// Here each output row reads three input rows through three row pointers (a row outside the image
// points at a zero row, so no tap is checked); each group of four channels keeps its nine weights
// and bias in registers while it sweeps the row, two outputs a step: at stride 1 they share the
// loads of their overlapping columns (12 loads for 18 multiply-adds). Only the columns whose
// window overhangs the image's left or right edge check their taps.
import { Fn, type Local } from './asm.js';
import type { ClampAct } from './clamp.js';

/**
 * oxA, oxB: the output columns [oxA, oxB) whose 3-wide window lies inside a row of wd columns
 * (oxA = ceil(pl / sw); oxB = floor((wd − 3 + pl) / sw) + 1, 0 when even the first window
 * overhangs), both within [0, ow] and oxA ≤ oxB. t0: a scratch local.
 */
function interiorColumns(f: Fn, g: { pl: Local; sw: Local; wd: Local; ow: Local }, oxA: Local, oxB: Local, t0: Local): void {
  f.get(g.pl).get(g.sw).add().i32(1).sub().get(g.sw).divS().set(oxA);
  f.get(oxA).get(g.ow).get(oxA).get(g.ow).ltS().select().set(oxA);
  f.get(g.wd).i32(3).sub().get(g.pl).add().set(t0);
  f.get(t0).get(g.sw).divS().i32(1).add().i32(0).get(t0).i32(0).geS().select().set(oxB);
  f.get(oxB).get(g.ow).get(oxB).get(g.ow).ltS().select().set(oxB);
  f.get(oxB).get(oxA).get(oxB).get(oxA).geS().select().set(oxB);
}

/**
 * The loads of n adjacent outputs' windows (stride s) from three row pointers: each column k of a
 * row is loaded once into `col`, then `use(ky, kx, j)` emits its multiply-add for every output j
 * whose window holds it (at tap kx = k − j·s).
 */
function windowColumns(f: Fn, ptrs: Local[], colOffset: (Local | null)[], col: Local, n: number, s: 1 | 2, use: (ky: number, kx: number, j: number) => void): void {
  for (let ky = 0; ky < 3; ky++) {
    for (let k = 0; k < (n - 1) * s + 3; k++) {
      f.get(ptrs[ky]!);
      if (k > 0) f.get(colOffset[k]!).add();
      f.v128Load().set(col);
      for (let j = 0; j < n; j++) {
        const kx = k - j * s;
        if (kx >= 0 && kx <= 2) use(ky, kx, j);
      }
    }
  }
}

/** Activation codes of dwConv3x3's `act` argument. */
export const DW_ACT: Record<ClampAct, number> = { linear: 0, relu: 1, relu6: 2 };


/**
 * dwConv3x3(x, w, bias, out, nb, h, wd, c, oh, ow, sh, sw, pt, pl, y0, y1, act, zeros):
 * out[b, oy, ox, ch] = act(bias[ch] + Σ_{ky,kx} x[b, oy·sh − pt + ky, ox·sw − pl + kx, ch]·w[ky, kx, ch])
 * for output rows y0 ≤ oy < y1 of each of nb images; taps outside the image count as zero.
 * w is [3, 3, c] (tfjs's [3, 3, c, 1]); bias 0 means none; sw is 1 or 2; zeros: wd·c zero floats.
 */
export function dwConv3x3(): Fn {
  const f = new Fn('dwConv3x3', Array(18).fill('i32') as 'i32'[]);
  const [x, w, bias, out, nb, h, wd, c, oh, ow, sh, sw, pt, pl, y0, y1, actCode, zeros] = f.params as Local[] as [
    Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local,
  ];
  const i32 = () => f.local('i32');
  const [b, oy, ox, o, iy, ix, cB, cB2, cB3, cB4, rowB, imgIn, imgOut, oxA, oxB, t0, q, qEnd, qWide] = Array.from({ length: 19 }, i32);
  const colOffset = [null, cB, cB2, cB3, cB4]; // byte offset of the window's k-th column
  const rows = Array.from({ length: 3 }, i32); // row pointers (column 0, channel 0) of the window's rows
  const ptrs = Array.from({ length: 3 }, i32); // the same rows at the current output's window, channel group o
  const v = () => f.local('v128');
  const wv = Array.from({ length: 9 }, v);
  const [bv, col, six] = Array.from({ length: 3 }, v);
  const acc = [v(), v()];

  f.get(c).i32(2).shl().set(cB);
  f.get(cB).i32(1).shl().set(cB2);
  f.get(cB).i32(3).mul().set(cB3);
  f.get(cB).i32(2).shl().set(cB4);
  f.get(wd).get(cB).mul().set(rowB);
  f.f32(6).f32x4Splat().set(six);
  interiorColumns(f, { pl, sw, wd, ow }, oxA, oxB, t0);

  const store = (act: ClampAct, j: number) => {
    f.get(q);
    if (j > 0) f.get(cB).add();
    f.get(acc[j]!);
    if (act !== 'linear') f.v128Zero().f32x4Pmax();
    if (act === 'relu6') f.get(six).f32x4Pmin();
    f.v128Store();
  };

  /** n outputs at q (n = 1, 2) from the windows at ptrs: column k feeds output j with tap k − j·s. */
  const interior = (n: number, s: 1 | 2, act: ClampAct) => {
    for (let j = 0; j < n; j++) f.get(bv).set(acc[j]!);
    windowColumns(f, ptrs, colOffset, col, n, s, (ky, kx, j) => {
      f.get(acc[j]!).get(col).get(wv[ky * 3 + kx]!).f32x4Mul().f32x4Add().set(acc[j]!);
    });
    for (let j = 0; j < n; j++) store(act, j);
  };

  /** The output at ox (q) with its column taps checked (its window overhangs the left or right edge). */
  const edge = (act: ClampAct) => {
    f.get(bv).set(acc[0]!);
    for (let kx = 0; kx < 3; kx++) {
      f.get(ox).get(sw).mul().get(pl).sub().i32(kx).add().set(ix);
      f.get(ix).get(wd).i32LtU().ifElse(() => {
        for (let ky = 0; ky < 3; ky++) {
          f.get(acc[0]!).get(rows[ky]!).get(ix).get(cB).mul().add().get(o).add().v128Load();
          f.get(wv[ky * 3 + kx]!).f32x4Mul().f32x4Add().set(acc[0]!);
        }
      });
    }
    store(act, 0);
  };

  /** One output row for channel group o, stride s, activation act. */
  const row = (s: 1 | 2, act: ClampAct) => {
    f.get(imgOut).get(oy).get(ow).mul().get(cB).mul().add().get(o).add().set(q);
    f.loop(ox, 0, oxA, 1, () => {
      edge(act);
      f.get(q).get(cB).add().set(q);
    });
    for (let ky = 0; ky < 3; ky++) f.get(rows[ky]!).get(oxA).get(sw).mul().get(pl).sub().get(cB).mul().add().get(o).add().set(ptrs[ky]!);
    f.get(q).get(oxB).get(oxA).sub().get(cB).mul().add().set(qEnd);
    f.get(qEnd).get(cB).sub().set(qWide);
    f.block(() => {
      f.loopBlock(() => {
        f.get(q).get(qWide).geS().brIf(1);
        interior(2, s, act);
        for (const p of ptrs) f.get(p).get(s === 1 ? cB2 : cB4).add().set(p);
        f.get(q).get(cB2).add().set(q);
        f.br(0);
      });
    });
    f.get(q).get(qEnd).ltS().ifElse(() => {
      interior(1, s, act);
      f.get(q).get(cB).add().set(q);
    });
    f.loop(ox, oxB, ow, 1, () => {
      edge(act);
      f.get(q).get(cB).add().set(q);
    });
  };

  f.loop(b, 0, nb, 1, () => {
    f.get(x).get(b).get(h).mul().get(rowB).mul().add().set(imgIn);
    f.get(out).get(b).get(oh).mul().get(ow).mul().get(cB).mul().add().set(imgOut);
    f.loop(oy, y0, y1, 1, () => {
      for (let ky = 0; ky < 3; ky++) {
        f.get(oy).get(sh).mul().get(pt).sub().i32(ky).add().set(iy);
        f.get(imgIn).get(iy).get(rowB).mul().add().get(zeros).get(iy).get(h).i32LtU().select().set(rows[ky]!);
      }
      f.loop(o, 0, cB, 16, () => {
        for (let t = 0; t < 9; t++) f.get(w).get(o).add().get(cB).i32(t).mul().add().v128Load().set(wv[t]!);
        f.get(bias).ifElse(() => f.get(bias).get(o).add().v128Load().set(bv), () => f.v128Zero().set(bv));
        const byAct = (s: 1 | 2) => {
          f.get(actCode).i32(DW_ACT.relu6).eq().ifElse(
            () => row(s, 'relu6'),
            () => f.get(actCode).ifElse(() => row(s, 'relu'), () => row(s, 'linear')),
          );
        };
        f.get(sw).i32(1).eq().ifElse(() => byAct(1), () => byAct(2));
      });
    });
  });
  return f;
}

/** Input bytes a block of the 3×3 depthwise filter gradient's output rows reads (within L2, near L1). */
const DW_FILTER_GRAD_BLOCK_BYTES = 64 * 1024;

/**
 * dwFilterGrad3x3(x, dy, out, nb, h, wd, c, cs, oh, ow, sh, sw, pt, pl, zeros):
 * out[ky, kx, ch] = Σ_{b,oy,ox} x[b, oy·sh − pt + ky, ox·sw − pl + kx, ch]·dy[b, oy, ox, ch] for the
 * first c channels (c % 4 = 0) of rows cs channels long (out too is [3, 3, cs]); taps outside the
 * image count as zero, through the same zero row (wd·cs zero floats) and edge columns as dwConv3x3.
 * The nine sums of a channel group stay in registers over a block of output rows; at stride 1 two
 * adjacent outputs share their overlapping columns (14 loads for 18 multiply-adds instead of 20).
 */
export function dwFilterGrad3x3(): Fn {
  const f = new Fn('dwFilterGrad3x3', Array(15).fill('i32') as 'i32'[]);
  const [x, dy, out, nb, h, wd, c, cs, oh, ow, sh, sw, pt, pl, zeros] = f.params as Local[] as [
    Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local,
  ];
  const i32 = () => f.local('i32');
  const [b, oy, ox, o, iy, ix, cB, csB, csB2, csB3, csB4, rowB, imgX, dyp, dyEnd, dyWide, oxA, oxB, t0] = Array.from({ length: 19 }, i32);
  const [rb, oy0, oy1] = Array.from({ length: 3 }, i32);
  const colOffset = [null, csB, csB2, csB3, csB4];
  const rows = Array.from({ length: 3 }, i32);
  const ptrs = Array.from({ length: 3 }, i32);
  const v = () => f.local('v128');
  const acc = Array.from({ length: 9 }, v);
  const [col] = [v()];
  const g = [v(), v()]; // dy of the step's outputs

  f.get(c).i32(2).shl().set(cB);
  f.get(cs).i32(2).shl().set(csB);
  f.get(csB).i32(1).shl().set(csB2);
  f.get(csB).i32(3).mul().set(csB3);
  f.get(csB).i32(2).shl().set(csB4);
  f.get(wd).get(csB).mul().set(rowB);
  interiorColumns(f, { pl, sw, wd, ow }, oxA, oxB, t0);

  /** n outputs (dy at dyp, dyp + csB) against the windows at ptrs: column k meets output j at tap k − j·s. */
  const interior = (n: number, s: 1 | 2) => {
    for (let j = 0; j < n; j++) {
      f.get(dyp);
      if (j > 0) f.get(csB).add();
      f.v128Load().set(g[j]!);
    }
    windowColumns(f, ptrs, colOffset, col, n, s, (ky, kx, j) => {
      f.get(acc[ky * 3 + kx]!).get(col).get(g[j]!).f32x4Mul().f32x4Add().set(acc[ky * 3 + kx]!);
    });
  };

  /** The output at ox (dy at dyp) with its column taps checked. */
  const edge = () => {
    f.get(dyp).v128Load().set(g[0]!);
    for (let kx = 0; kx < 3; kx++) {
      f.get(ox).get(sw).mul().get(pl).sub().i32(kx).add().set(ix);
      f.get(ix).get(wd).i32LtU().ifElse(() => {
        for (let ky = 0; ky < 3; ky++) {
          f.get(acc[ky * 3 + kx]!).get(rows[ky]!).get(ix).get(csB).mul().add().v128Load();
          f.get(g[0]!).f32x4Mul().f32x4Add().set(acc[ky * 3 + kx]!);
        }
      });
    }
  };

  const row = (s: 1 | 2) => {
    f.loop(ox, 0, oxA, 1, () => {
      edge();
      f.get(dyp).get(csB).add().set(dyp);
    });
    for (let ky = 0; ky < 3; ky++) f.get(rows[ky]!).get(oxA).get(sw).mul().get(pl).sub().get(csB).mul().add().set(ptrs[ky]!);
    f.get(dyp).get(oxB).get(oxA).sub().get(csB).mul().add().set(dyEnd);
    f.get(dyEnd).get(csB).sub().set(dyWide);
    f.block(() => {
      f.loopBlock(() => {
        f.get(dyp).get(dyWide).geS().brIf(1);
        interior(2, s);
        for (const p of ptrs) f.get(p).get(s === 1 ? csB2 : csB4).add().set(p);
        f.get(dyp).get(csB2).add().set(dyp);
        f.br(0);
      });
    });
    f.get(dyp).get(dyEnd).ltS().ifElse(() => {
      interior(1, s);
      f.get(dyp).get(csB).add().set(dyp);
    });
    f.loop(ox, oxB, ow, 1, () => {
      edge();
      f.get(dyp).get(csB).add().set(dyp);
    });
  };

  // Blocks of output rows whose input rows (sh·rowB bytes per output row) stay in cache while every
  // channel group sweeps them: one sweep of all of x per group read x from memory once per group
  // (8 times for 32 channels, as pixels are 32 channels apart). The sums go to `out` between blocks.
  f.i32(DW_FILTER_GRAD_BLOCK_BYTES).get(sh).get(rowB).mul().divU().set(rb);
  f.get(rb).i32(1).get(rb).i32(1).geS().select().set(rb);
  f.loop(b, 0, nb, 1, () => {
    f.loop(oy0, 0, oh, rb, () => {
      f.get(oy0).get(rb).add().get(oh).get(oy0).get(rb).add().get(oh).ltS().select().set(oy1);
      f.loop(o, 0, cB, 16, () => {
        f.get(b).get(oy0).or().eqz().ifElse(
          () => { for (const a of acc) f.v128Zero().set(a); },
          () => { for (let t = 0; t < 9; t++) f.get(out).get(o).add().get(csB).i32(t).mul().add().v128Load().set(acc[t]!); },
        );
        f.get(x).get(b).get(h).mul().get(rowB).mul().add().get(o).add().set(imgX);
        f.get(dy).get(b).get(oh).mul().get(oy0).add().get(ow).mul().get(csB).mul().add().get(o).add().set(dyp);
        f.loop(oy, oy0, oy1, 1, () => {
          for (let ky = 0; ky < 3; ky++) {
            f.get(oy).get(sh).mul().get(pt).sub().i32(ky).add().set(iy);
            f.get(imgX).get(iy).get(rowB).mul().add().get(zeros).get(o).add().get(iy).get(h).i32LtU().select().set(rows[ky]!);
          }
          f.get(sw).i32(1).eq().ifElse(() => row(1), () => row(2));
        });
        for (let t = 0; t < 9; t++) f.get(out).get(o).add().get(csB).i32(t).mul().add().get(acc[t]!).v128Store();
      });
    });
  });
  return f;
}
