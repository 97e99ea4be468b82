// The Compare page's sweep views: values lined up with runs by value (not by order), missing runs empty.
import { describe, expect, it } from 'vitest';
import { heatColor, sweepHeat, sweepLine, sweepParallel } from '../../src/renderer/lib/sweep-view.js';
import type { SweepRun } from '../../src/shared/sweep-record.js';
import { axisLabel } from '../../src/shared/sweep.js';
import { sweepableFields, sweepFromRows } from '../../src/renderer/lib/sweep-form.js';

const run = (id: number, values: Record<string, unknown>, acc: number | null): SweepRun => ({
  run: id,
  name: `r${id}`,
  status: acc === null ? 'running' : 'completed',
  values,
  valAccuracy: acc,
  bestValAccuracy: acc,
});

describe('sweepLine', () => {
  it('sorts numeric values and matches runs by value', () => {
    const grid = [{ path: 'loss.temperature', values: [4, 1, 2] }];
    const line = sweepLine(grid, [run(1, { 'loss.temperature': 2 }, 0.7), run(2, { 'loss.temperature': 4 }, 0.9), run(3, { 'loss.temperature': 1 }, null)]);
    expect(line).toEqual({ label: 'τ', x: [1, 2, 4], ticks: ['1', '2', '4'], y: [null, 0.7, 0.9] });
  });
  it('uses positions for non-numeric values such as progressive τ', () => {
    const grid = [{ path: 'loss.temperature', values: [{ start: 6, end: 2 }, 3] }];
    const line = sweepLine(grid, [run(1, { 'loss.temperature': { start: 6, end: 2 } }, 0.8)]);
    expect(line.x).toEqual([0, 1]);
    expect(line.ticks).toEqual(['6→2', '3']);
    expect(line.y).toEqual([0.8, null]);
  });
});

describe('sweepParallel', () => {
  it('three fields: one axis each then val accuracy; positions by value, accuracy scaled to [min, max]; unfinished runs left out', () => {
    const grid = [
      { path: 'loss.temperature', values: [2, 4, 6] },
      { path: 'loss.alpha', values: [0.5, 0.9] },
      { path: 'optim.lr', values: [0.001] },
    ];
    const p = sweepParallel(grid, [
      run(1, { 'loss.temperature': 4, 'loss.alpha': 0.9, 'optim.lr': 0.001 }, 0.8),
      run(2, { 'optim.lr': 0.001, 'loss.alpha': 0.5, 'loss.temperature': 6 }, 0.6),
      run(3, { 'loss.temperature': 2, 'loss.alpha': 0.5, 'optim.lr': 0.001 }, null),
      run(4, { 'loss.temperature': 2, 'loss.alpha': 0.9, 'optim.lr': 0.001 }, 0.7),
    ]);
    expect(p.axes.map((a) => a.label)).toEqual(['τ', 'α', axisLabel('optim.lr'), 'val accuracy']);
    expect(p.axes[0]!.ticks).toEqual(['2', '4', '6']);
    expect([p.min, p.max]).toEqual([0.6, 0.8]);
    expect(p.lines.map((l) => [l.run, l.positions])).toEqual([
      [1, [0.5, 1, 0.5, 1]],
      [2, [1, 0, 0.5, 0]],
      [4, [0, 1, 0.5, expect.closeTo(0.5, 9)]],
    ]);
  });
});

describe('sweepHeat', () => {
  it('rows are the first field, columns the second; min and max over finished cells', () => {
    const grid = [
      { path: 'loss.temperature', values: [2, 4, 6] },
      { path: 'loss.alpha', values: [0.5, 0.9] },
    ];
    const runs = [
      run(1, { 'loss.temperature': 2, 'loss.alpha': 0.5 }, 0.6),
      run(2, { 'loss.temperature': 2, 'loss.alpha': 0.9 }, 0.65),
      run(3, { 'loss.alpha': 0.5, 'loss.temperature': 4 }, 0.8),
      run(4, { 'loss.temperature': 6, 'loss.alpha': 0.9 }, 0.75),
    ];
    const h = sweepHeat(grid, runs);
    expect(h.rowLabel).toBe('τ');
    expect(h.colLabel).toBe('α');
    expect(h.rows).toEqual(['2', '4', '6']);
    expect(h.cols).toEqual(['0.5', '0.9']);
    expect(h.cells).toEqual([
      [0.6, 0.65],
      [0.8, null],
      [null, 0.75],
    ]);
    expect([h.min, h.max]).toEqual([0.6, 0.8]);
  });
  it('colours: lightest at min, darkest at max, grey when empty', () => {
    expect(heatColor(0.6, 0.6, 0.8)).toBe('rgb(219, 234, 254)');
    expect(heatColor(0.8, 0.6, 0.8)).toBe('rgb(30, 64, 175)');
    expect(heatColor(null, 0.6, 0.8)).toBe('#e5e7eb');
  });
});

describe('sweep entry on New run', () => {
  const base = { name: 'w', dataset: 'd', method: 'wsl' as const, teacher: 't', student: { arch: 'refnet' as const, inputSize: 32 }, epochs: 1 };
  it('offers the method\'s own numeric parameters first', () => {
    expect(sweepableFields('wsl')).toEqual(['loss.temperature', 'loss.alpha', 'optim.lr', 'optim.weightDecay', 'epochs', 'seed']);
    expect(sweepableFields('ce')).toEqual(['optim.lr', 'optim.weightDecay', 'epochs', 'seed']);
  });
  it('turns rows into a validated grid, or names the problem', () => {
    const ok = sweepFromRows(base, [
      { path: 'loss.temperature', values: '1, 2, 4' },
      { path: 'loss.alpha', values: '1,2.25' },
    ]);
    expect(ok).toEqual({ ok: true, runs: 6, grid: [{ path: 'loss.temperature', values: [1, 2, 4] }, { path: 'loss.alpha', values: [1, 2.25] }] });
    expect(sweepFromRows(base, [{ path: 'loss.alpha', values: '' }])).toMatchObject({ ok: false, error: /enter the values/ });
    expect(sweepFromRows(base, [{ path: 'loss.temperature', values: '2,0' }])).toMatchObject({ ok: false, error: /τ=0: loss.temperature/ });
    expect(sweepFromRows(base, [{ path: 'loss.alpha', values: '1' }, { path: 'loss.alpha', values: '2' }])).toMatchObject({ ok: false, error: /swept twice/ });
  });
});
