// The transform matrices of Winograd's minimal filtering F(m, 3) (m outputs of a 3-tap filter from
// α = m + 2 inputs), derived by Toom-Cook from interpolation points. With V the α×α evaluation
// matrix of polynomials of degree α − 1 at the points (and ∞: the leading coefficient), and V_k its
// first k columns, linear convolution is s = V⁻¹·((V_3·g) ⊙ (V_m·h)); correlation, what a CNN layer
// computes (y_i = Σ_k d_{i+k}·g_k), is its transpose in h:
//   y = V_mᵀ·((V_3·g) ⊙ (V⁻ᵀ·d)),  so  Aᵀ = V_mᵀ,  G = V_3,  Bᵀ = V⁻ᵀ.
// A diagonal D may move between G and Bᵀ (G → D·G, Bᵀ → D⁻¹·Bᵀ); each Bᵀ row is scaled to an
// integer-like form so the input transform, run on every tile, multiplies as little as possible.

export interface WinogradMatrices {
  m: number;
  alpha: number;
  /** m × α */
  at: number[][];
  /** α × 3 */
  g: number[][];
  /** α × α */
  bt: number[][];
}

/** Finite points per m (∞ is the last): small integers and halves keep the matrices well conditioned. */
const POINTS: Record<number, number[]> = {
  2: [0, 1, -1],
  3: [0, 1, -1, 0.5],
  4: [0, 1, -1, 0.5, -2],
};

export const WINOGRAD_TILES = [2, 3, 4] as const;
export type WinogradTile = (typeof WINOGRAD_TILES)[number];

function evaluation(points: number[], alpha: number, cols: number): number[][] {
  const rows = points.map((p) => Array.from({ length: cols }, (_, k) => p ** k));
  rows.push(Array.from({ length: cols }, (_, k) => (k === cols - 1 ? 1 : 0)));
  if (rows.length !== alpha) throw new Error('winograd: wrong number of points');
  return rows;
}

function invert(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const d = m[c]![c]!;
    for (let k = 0; k < 2 * n; k++) m[c]![k]! /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      if (f !== 0) for (let k = 0; k < 2 * n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((r) => r.slice(n));
}

const transpose = (a: number[][]) => a[0]!.map((_, j) => a.map((r) => r[j]!));
/** Rounds away float64 noise (|x − round(x·q)/q| < 1e-9 for q up to 64). */
const clean = (x: number) => {
  for (const q of [1, 2, 4, 8, 16, 32, 64, 3, 6, 12, 24, 48, 9, 18, 36]) {
    const r = Math.round(x * q) / q;
    if (Math.abs(x - r) < 1e-9) return r;
  }
  return x;
};

export function winogradMatrices(m: WinogradTile): WinogradMatrices {
  const alpha = m + 2;
  const pts = POINTS[m]!;
  const v = evaluation(pts, alpha, alpha);
  const at = transpose(evaluation(pts, alpha, m));
  const g = evaluation(pts, alpha, 3);
  const bt = transpose(invert(v));
  // Scale each Bᵀ row so its largest entry is ±1-ish integer: row j · s_j, G row j / s_j.
  for (let j = 0; j < alpha; j++) {
    const nz = bt[j]!.filter((x) => Math.abs(x) > 1e-12).map(Math.abs);
    const s = 1 / Math.min(...nz);
    bt[j] = bt[j]!.map((x) => clean(x * s));
    g[j] = g[j]!.map((x) => clean(x / s));
  }
  return { m, alpha, at: at.map((r) => r.map(clean)), g, bt };
}
