// What the Compare page draws for a sweep: a line of val accuracy over one swept field, or a grid of
// cells over two. Pure: no React, no DOM.
import { axisLabel, formatSweepValue, type SweepGrid } from '../../shared/sweep.js';
import type { SweepRun } from '../../shared/sweep-record.js';

const key = (v: unknown): string => JSON.stringify(v);

export interface SweepLine {
  label: string;
  /** The swept values when all are numbers, else their positions 0, 1, … */
  x: number[];
  ticks: string[];
  y: Array<number | null>;
}

/** One swept field: val accuracy per grid value, in grid order (null where no run has finished). */
export function sweepLine(grid: SweepGrid, runs: readonly SweepRun[]): SweepLine {
  const axis = grid[0]!;
  const numeric = axis.values.every((v) => typeof v === 'number');
  const byValue = new Map(runs.map((r) => [key(r.values[axis.path]), r.valAccuracy]));
  const order = axis.values.map((v, i) => ({ v, i })).sort((a, b) => (numeric ? (a.v as number) - (b.v as number) : a.i - b.i));
  return {
    label: axisLabel(axis.path),
    x: order.map(({ v, i }) => (numeric ? (v as number) : i)),
    ticks: order.map(({ v }) => formatSweepValue(v)),
    y: order.map(({ v }) => byValue.get(key(v)) ?? null),
  };
}

export interface SweepHeat {
  rowLabel: string;
  colLabel: string;
  rows: string[];
  cols: string[];
  /** cells[row][col]: val accuracy, null where that run has not finished (or failed). */
  cells: Array<Array<number | null>>;
  min: number | null;
  max: number | null;
}

/** Two swept fields: rows are the first, columns the second. */
export function sweepHeat(grid: SweepGrid, runs: readonly SweepRun[]): SweepHeat {
  const [a, b] = grid as [SweepGrid[number], SweepGrid[number]];
  const cell = new Map(runs.map((r) => [`${key(r.values[a.path])}|${key(r.values[b.path])}`, r.valAccuracy]));
  const cells = a.values.map((va) => b.values.map((vb) => cell.get(`${key(va)}|${key(vb)}`) ?? null));
  const all = cells.flat().filter((v): v is number => v !== null);
  return {
    rowLabel: axisLabel(a.path),
    colLabel: axisLabel(b.path),
    rows: a.values.map(formatSweepValue),
    cols: b.values.map(formatSweepValue),
    cells,
    min: all.length ? Math.min(...all) : null,
    max: all.length ? Math.max(...all) : null,
  };
}

/** Light (low) to dark blue (high); grey for an empty cell. */
export function heatColor(v: number | null, min: number | null, max: number | null): string {
  if (v === null || min === null || max === null) return '#e5e7eb';
  const t = max > min ? (v - min) / (max - min) : 1;
  const lerp = (x: number, y: number) => Math.round(x + (y - x) * t);
  return `rgb(${lerp(219, 30)}, ${lerp(234, 64)}, ${lerp(254, 175)})`;
}

export interface SweepParallel {
  /** One axis per swept field, then val accuracy. */
  axes: { label: string; ticks: string[] }[];
  /** Per finished run: its position (0..1) on each axis, the last being val accuracy scaled to [min, max]. */
  lines: { run: number; positions: number[]; valAccuracy: number }[];
  min: number;
  max: number;
}

/** Three or more swept fields: parallel coordinates, each grid value evenly placed on its axis. */
export function sweepParallel(grid: SweepGrid, runs: readonly SweepRun[]): SweepParallel {
  const done = runs.filter((r): r is SweepRun & { valAccuracy: number } => r.valAccuracy !== null);
  const accs = done.map((r) => r.valAccuracy);
  const min = accs.length ? Math.min(...accs) : 0;
  const max = accs.length ? Math.max(...accs) : 1;
  const place = (i: number, n: number) => (n <= 1 ? 0.5 : i / (n - 1));
  return {
    axes: [...grid.map((a) => ({ label: axisLabel(a.path), ticks: a.values.map(formatSweepValue) })), { label: 'val accuracy', ticks: [] }],
    lines: done.map((r) => ({
      run: r.run,
      valAccuracy: r.valAccuracy,
      positions: [
        ...grid.map((a) => place(a.values.findIndex((v) => key(v) === key(r.values[a.path])), a.values.length)),
        max > min ? (r.valAccuracy - min) / (max - min) : 0.5,
      ],
    })),
    min,
    max,
  };
}
