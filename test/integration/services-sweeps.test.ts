// A sweep started through the services (as the New run page does): the real CLI child runs it, the
// call returns the sweep once its first run exists, and sweeps.get follows it to the end.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticDataset } from '../../src/main/demo/synthetic-dataset.js';
import { createServices } from '../../src/main/services/index.js';
import type { Services } from '../../src/main/services/types.js';
import { SweepDetail, SweepRecord } from '../../src/shared/sweep-record.js';

const BIN = path.resolve(__dirname, '../../bin/distill.js');
let work: string;
let home: string;
let services: Services;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-svc-sweep-'));
  home = path.join(work, 'home');
  const data = await makeSyntheticDataset({ dir: path.join(work, 'data'), labeledPerClass: 8, unlabeled: 0, valPerClass: 6, size: 36, seed: 4 });
  const r = spawnSync(process.execPath, [BIN, 'dataset', 'add', 'shapes', '--labeled', data.labeled, '--val', data.val, '--home', home, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  services = await createServices({ home, pollMs: 100, pidCheckMs: 200, watch: false });
}, 120_000);

afterAll(async () => {
  await services?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const config = {
  name: 'ce-lr',
  dataset: 'shapes',
  method: 'ce',
  student: { arch: 'refnet', inputSize: 32 },
  data: { useLabels: true, useUnlabeled: false },
  epochs: 1,
  batchSize: 8,
};

describe('sweeps through the services', () => {
  it('refuses an invalid grid before starting anything', async () => {
    await expect(services.call('sweeps.start', { config, grid: [{ path: 'optim.lr', values: [0.01, -1] }] })).rejects.toThrow(/lr=-1: optim.lr/);
    expect(await services.call('sweeps.list', {})).toEqual([]);
  });

  it('starts the CLI sweep, returns its record, and sweeps.get shows every run with the best', async () => {
    const sweep = SweepRecord.parse(await services.call('sweeps.start', { config, grid: [{ path: 'optim.lr', values: [0.001, 0.01] }] }));
    expect(sweep.name).toBe('ce-lr');
    expect(sweep.grid).toEqual([{ path: 'optim.lr', values: [0.001, 0.01] }]);
    let detail = SweepDetail.parse(await services.call('sweeps.get', { id: sweep.id }));
    const t0 = Date.now();
    while (detail.sweep.status === 'running') {
      if (Date.now() - t0 > 240_000) throw new Error('the sweep did not finish');
      await new Promise((r) => setTimeout(r, 500));
      detail = SweepDetail.parse(await services.call('sweeps.get', { id: sweep.id }));
    }
    expect(detail.sweep.status).toBe('completed');
    expect(detail.runs.map((r) => [r.name, r.status, r.values])).toEqual([
      ['ce-lr/lr=0.001', 'completed', { 'optim.lr': 0.001 }],
      ['ce-lr/lr=0.01', 'completed', { 'optim.lr': 0.01 }],
    ]);
    for (const r of detail.runs) expect(r.valAccuracy).toBeGreaterThanOrEqual(0);
    expect(detail.best?.valAccuracy).toBe(Math.max(...detail.runs.map((r) => r.valAccuracy!)));
    expect(SweepRecord.array().parse(await services.call('sweeps.list', {})).map((s) => s.id)).toEqual([sweep.id]);
    await expect(services.call('sweeps.get', { id: 999 })).rejects.toThrow(/sweep 999 not found/);
  }, 300_000);
});
