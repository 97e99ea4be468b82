// Sweep grids: parsing `--grid` flags, expanding the grid over a base config (validated, named after
// the values), progressive τ, and the sweep rows in the store.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunConfig, type RunConfigInput } from '../../src/shared/run-config.js';
import { bestOf, expandSweep, parseGridFlag, sweepRunName, SweepGrid } from '../../src/shared/sweep.js';
import { Store } from '../../src/main/store/index.js';
import { gridFlags } from '../../src/main/services/sweeps.js';

const BASE: RunConfigInput = {
  name: 'kd-base',
  dataset: 'shapes',
  method: 'kd',
  teacher: 't',
  student: { arch: 'refnet', inputSize: 32 },
  loss: { temperature: 4, alpha: 0.9 },
  epochs: 1,
};

describe('parseGridFlag', () => {
  it('reads numbers, strings and progressive τ objects', () => {
    expect(parseGridFlag('loss.temperature=2,3,4.5')).toEqual({ path: 'loss.temperature', values: [2, 3, 4.5] });
    expect(parseGridFlag('loss.divergence=js,symkl')).toEqual({ path: 'loss.divergence', values: ['js', 'symkl'] });
    expect(parseGridFlag('loss.temperature={"start":6,"end":2},4')).toEqual({
      path: 'loss.temperature',
      values: [{ start: 6, end: 2 }, 4],
    });
  });
  it('names what is wrong', () => {
    expect(() => parseGridFlag('loss.temperature')).toThrow(/path=v1,v2/);
    expect(() => parseGridFlag('loss.alpha=0.5,,0.9')).toThrow(/empty value/);
    expect(() => parseGridFlag('loss..alpha=1')).toThrow(/dotted config path/);
  });
});

describe('expandSweep', () => {
  it('makes every combination, first axis slowest, each a valid run named after its values', () => {
    const grid = SweepGrid.parse([parseGridFlag('loss.temperature=2,3,4,5,6'), parseGridFlag('loss.alpha=0.5,0.9')]);
    const points = expandSweep(BASE, grid);
    expect(points).toHaveLength(10);
    expect(points[0]!.values).toEqual({ 'loss.temperature': 2, 'loss.alpha': 0.5 });
    expect(points[1]!.values).toEqual({ 'loss.temperature': 2, 'loss.alpha': 0.9 });
    expect(points[9]!.config.name).toBe('kd-base/τ=6,α=0.9');
    expect(points[9]!.config.loss.temperature).toBe(6);
    expect(points[9]!.config.loss.alpha).toBe(0.9);
    // everything else is the base config, parsed
    expect(points[4]!.config.student).toEqual(RunConfig.parse(BASE).student);
    expect(new Set(points.map((p) => p.config.name)).size).toBe(10);
  });
  it('can set progressive τ, whole or by its end points', () => {
    const whole = expandSweep(BASE, [parseGridFlag('loss.temperature={"start":6,"end":2},{"start":4,"end":1}')]);
    expect(whole[0]!.config.loss.temperature).toEqual({ start: 6, end: 2 });
    expect(whole[0]!.config.name).toBe('kd-base/τ=6→2');
    const progressive = { ...BASE, loss: { temperature: { start: 4, end: 1 } } };
    const ends = expandSweep(progressive, [parseGridFlag('loss.temperature.end=1,2')]);
    expect(ends.map((p) => p.config.loss.temperature)).toEqual([
      { start: 4, end: 1 },
      { start: 4, end: 2 },
    ]);
    expect(ends[1]!.config.name).toBe('kd-base/τ.end=2');
  });
  it('refuses a grid point the schema refuses, naming it, before anything starts', () => {
    expect(() => expandSweep(BASE, [parseGridFlag('loss.alpha=0.5,1.5')])).toThrow(/α=1.5: loss.alpha: KD alpha must be in \[0, 1\]/);
    expect(() => expandSweep(BASE, [parseGridFlag('method=kd,dml')])).toThrow(/method=dml: peers: method "dml" needs at least one peer student/);
  });
  it('refuses repeated paths and oversized grids', () => {
    expect(SweepGrid.safeParse([parseGridFlag('loss.alpha=0.5'), parseGridFlag('loss.alpha=0.9')]).success).toBe(false);
    const big = Array.from({ length: 3 }, (_, i) => ({ path: `a${i}`, values: Array.from({ length: 7 }, (_, j) => j) }));
    expect(SweepGrid.safeParse(big).error?.issues[0]?.message).toMatch(/343 combinations/);
  });
  it('bestOf picks the highest val accuracy, skipping runs without one', () => {
    const rows = [{ valAccuracy: null, id: 1 }, { valAccuracy: 0.7, id: 2 }, { valAccuracy: 0.9, id: 3 }, { valAccuracy: 0.9, id: 4 }];
    expect(bestOf(rows)?.id).toBe(3);
    expect(bestOf([{ valAccuracy: null }])).toBeNull();
    expect(sweepRunName('b', { 'optim.lr': 0.01, 'data.useLabels': false })).toBe('b/lr=0.01,useLabels=false');
  });
});

describe('gridFlags (the app starting a sweep through the CLI)', () => {
  it('writes flags the CLI reads back as the same grid', () => {
    const grid = SweepGrid.parse([
      { path: 'loss.temperature', values: [{ start: 6, end: 2 }, 4] },
      { path: 'loss.divergence', values: ['js', 'symkl'] },
      { path: 'optim.lr', values: [0.001, 1e-4] },
    ]);
    const flags = gridFlags(grid);
    expect(flags.filter((_, i) => i % 2 === 0)).toEqual(['--grid', '--grid', '--grid']);
    expect(flags.filter((_, i) => i % 2 === 1).map(parseGridFlag)).toEqual(grid);
  });
});

describe('store: sweeps', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-sweep-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('groups runs with their values, reports the best, and keeps runs when finished or cancelled', () => {
    const store = Store.open(dir);
    const datasetId = store.datasets.createDataset('shapes');
    const grid = SweepGrid.parse([parseGridFlag('loss.temperature=2,4')]);
    const base = RunConfig.parse(BASE);
    const sweep = store.sweeps.createSweep({ name: base.name, baseConfig: base, grid });
    expect(sweep.status).toBe('running');
    const points = expandSweep(BASE, grid);
    const accs = [0.6, 0.8];
    points.forEach((p, i) => {
      const run = store.runs.createRun({ config: p.config, datasetId });
      store.sweeps.addSweepRun(sweep.id, run.id, p.values);
      store.runs.updateRun(run.id, { lastValAccuracy: accs[i]!, bestValAccuracy: accs[i]! });
      store.runs.setRunStatus(run.id, 'completed');
    });
    store.runs.createRun({ config: { ...base, name: 'unrelated' }, datasetId });
    store.sweeps.setSweepStatus(sweep.id, 'cancelled');
    const d = store.sweeps.sweepDetail(sweep.id);
    expect(d.sweep.status).toBe('cancelled');
    expect(d.sweep.finishedAt).not.toBeNull();
    expect(d.sweep.grid).toEqual(grid);
    expect(d.runs.map((r) => [r.name, r.values, r.valAccuracy])).toEqual([
      ['kd-base/τ=2', { 'loss.temperature': 2 }, 0.6],
      ['kd-base/τ=4', { 'loss.temperature': 4 }, 0.8],
    ]);
    expect(d.best?.name).toBe('kd-base/τ=4');
    expect(store.sweeps.listSweeps().map((s) => s.id)).toEqual([sweep.id]);
    expect(() => store.sweeps.sweepDetail(99)).toThrow(/sweep "99" not found/);
    expect(() => store.sweeps.addSweepRun(sweep.id, 999, {})).toThrow(/run "999" not found/);
    store.close();
  });
});
