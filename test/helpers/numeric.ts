// Comparisons the numeric tests share: relative error of two vectors, and central finite differences
// of a float64 function of a flat vector (the reference a gradient is checked against).

/** ‖a − b‖ / max(‖a‖, ‖b‖). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(na), Math.sqrt(nb), 1e-12);
}

/** ∂f/∂x_i by central differences, for every i. */
export function centralDiff(f: (x: number[]) => number, x: readonly number[], h: number): number[] {
  return x.map((_, i) => {
    const p = x.slice();
    const m = x.slice();
    p[i]! += h;
    m[i]! -= h;
    return (f(p) - f(m)) / (2 * h);
  });
}

/** The same over a matrix, rows flattened in order. */
export function centralDiffRows(f: (z: number[][]) => number, z: readonly number[][], h: number): number[] {
  const cols = z[0]?.length ?? 0;
  const rows = (flat: number[]) => Array.from({ length: z.length }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
  return centralDiff((flat) => f(rows(flat)), z.flat(), h);
}
