// Turns logged metric rows into chart series: which chart a metric belongs to, and how series with
// different x values are aligned into uPlot's one-x-many-y table.
import type { MetricRow } from '../../shared/domain.js';

export type ChartKind = 'loss' | 'accuracy' | 'lr' | 'speed' | 'divergence' | 'memory';

export const CHART_TITLES: Record<ChartKind, string> = {
  loss: 'Loss parts',
  accuracy: 'Validation accuracy',
  lr: 'Learning rate',
  speed: 'Throughput (img/s)',
  divergence: 'Teacher–student divergence (JS / KL)',
  memory: 'Memory per epoch (RSS, WASM heap in MB; live tensors)',
};

export function chartKind(row: Pick<MetricRow, 'name' | 'scope'>): ChartKind {
  const n = row.name.toLowerCase();
  if (/^mem\//.test(n)) return 'memory';
  if (/acc/.test(n)) return 'accuracy';
  // Per-epoch means of the loss parts (train/ce, train/js) are losses, whatever the part's name.
  if (/^train\//.test(n)) return 'loss';
  if (/(^|[^a-z])lr($|[^a-z])|learning.?rate/.test(n)) return 'lr';
  if (/img.?(\/|_|per)?.?s(ec)?$|imgpersec|throughput/.test(n)) return 'speed';
  // JS/KL logged per epoch is the teacher–student measurement; per step a JS term is a loss part.
  if (row.scope === 'epoch' && /(^|[^a-z])(js|kl)([^a-z]|$)/.test(n)) return 'divergence';
  return 'loss';
}

export interface Series {
  key: string;
  label: string;
  scope: 'step' | 'epoch';
  x: number[];
  y: number[];
}

/** Groups rows by (model, name); x is the global step. Rows must be appended in id order. */
export class SeriesBook {
  private readonly byKey = new Map<string, Series & { kind: ChartKind }>();
  lastId = 0;
  /** Furthest epoch seen (fractional when steps log it so), for a finer progress bar than epochsDone. */
  maxEpoch = 0;
  maxStep = 0;

  add(rows: readonly MetricRow[]): boolean {
    let changed = false;
    for (const r of rows) {
      if (r.id <= this.lastId) continue;
      this.lastId = r.id;
      if (r.epoch > this.maxEpoch) this.maxEpoch = r.epoch;
      if (r.step > this.maxStep) this.maxStep = r.step;
      const key = `${r.model}:${r.name}`;
      let s = this.byKey.get(key);
      if (!s) {
        const label = r.model === 0 ? r.name : `${r.name} (peer ${r.model})`;
        s = { key, label, scope: r.scope, x: [], y: [], kind: chartKind(r) };
        this.byKey.set(key, s);
      }
      s.x.push(r.step);
      s.y.push(r.value);
      changed = true;
    }
    return changed;
  }

  series(kind?: ChartKind): Series[] {
    return [...this.byKey.values()].filter((s) => kind === undefined || s.kind === kind).sort((a, b) => a.key.localeCompare(b.key));
  }

  names(): string[] {
    return [...new Set([...this.byKey.values()].map((s) => s.key))].sort();
  }

  get(key: string): Series | undefined {
    return this.byKey.get(key);
  }
}

/** uPlot wants one sorted x array and y arrays of the same length (null where a series has no point). */
export function align(series: ReadonlyArray<{ x: readonly number[]; y: ReadonlyArray<number | null> }>): [number[], ...Array<Array<number | null>>] {
  const xs = new Set<number>();
  for (const s of series) for (const x of s.x) xs.add(x);
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map<number, number>();
  x.forEach((v, i) => index.set(v, i));
  const ys = series.map((s) => {
    const y: Array<number | null> = new Array<number | null>(x.length).fill(null);
    s.x.forEach((xv, i) => {
      y[index.get(xv)!] = s.y[i] ?? null;
    });
    return y;
  });
  return [x, ...ys];
}
