// Flattens configs to dotted paths and lines them up: the Compare page's and `runs compare`'s diff.
export interface ConfigDiffRow {
  path: string;
  values: unknown[];
  differs: boolean;
}

function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, []);
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else {
    out.set(prefix, value);
  }
}

export function configDiff(configs: readonly unknown[]): ConfigDiffRow[] {
  const flats = configs.map((c) => {
    const m = new Map<string, unknown>();
    flatten(c, '', m);
    return m;
  });
  const paths = [...new Set(flats.flatMap((f) => [...f.keys()]))].sort();
  return paths.map((p) => {
    const values = flats.map((f) => (f.has(p) ? f.get(p) : undefined));
    const first = JSON.stringify(values[0]);
    return { path: p, values, differs: values.some((v) => JSON.stringify(v) !== first) };
  });
}
