// Compare's config diff: each run config flattened to dotted paths (arrays by index), one row per path
// present in any run, `differs` when the values are not all equal.
export interface DiffRow {
  path: string;
  values: unknown[];
  differs: boolean;
}

/** {a:{b:1}, c:[{d:2}]} → {"a.b":1, "c.0.d":2}. Empty objects/arrays are kept as leaves. */
export function flatten(value: unknown, prefix = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, value);
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

export function configDiff(configs: readonly unknown[]): DiffRow[] {
  const flats = configs.map((c) => flatten(c));
  const paths = new Set<string>();
  for (const f of flats) for (const k of f.keys()) paths.add(k);
  return [...paths].sort(comparePaths).map((p) => {
    // Absent in a run → null, so the row still has one value per run and JSON keeps it.
    const values = flats.map((f) => (f.has(p) ? f.get(p) : null));
    const first = JSON.stringify(values[0]);
    return { path: p, values, differs: values.some((v) => JSON.stringify(v) !== first) };
  });
}

/** Dotted paths in natural order: numeric segments by value (peers.2 before peers.10). */
function comparePaths(a: string, b: string): number {
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const x = as[i]!;
    const y = bs[i]!;
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return as.length - bs.length;
}
