// The distillation zoo and sweeps through the real `distill` CLI on a tiny generated two-class set:
// DKD, DIST, WSL and the feature methods (FitNets, RKD, AT, UDML) each train one epoch and log finite
// loss parts; an ONNX teacher feeds FitNets and feature regression through graph outputs, and a value its
// graph lacks is refused before any step; a sweep runs its grid (progressive τ included) and Ctrl-C keeps finished runs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticDataset } from '../../src/main/demo/synthetic-dataset.js';
import { distillCli } from '../helpers/cli.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'distill.js');
let work: string;
let home: string;

const { cli, result } = distillCli(() => home, 300_000);
function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(path.join(home, 'distill.db'), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Per logged loss part of a run's steps: how many values, how many finite, how many non-zero. */
function lossParts(run: unknown): Map<string, { n: number; finite: number; nonzero: number }> {
  const rows = query<{ name: string; n: number; finite: number; nonzero: number }>(
    `SELECT name, COUNT(*) AS n, SUM(value = value AND abs(value) < 1e30) AS finite, SUM(value != 0) AS nonzero
     FROM metrics WHERE run_id = ? AND scope = 'step' AND name LIKE 'loss%' GROUP BY name`,
    run,
  );
  return new Map(rows.map((x) => [x.name, x]));
}

const TINY = { dataset: 'shapes', teacher: 'tiny', student: { arch: 'refnet', inputSize: 32 }, epochs: 1, batchSize: 16, seed: 1 };

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-zoo-'));
  home = path.join(work, 'home');
  const data = await makeSyntheticDataset({ dir: path.join(work, 'data'), labeledPerClass: 12, unlabeled: 16, valPerClass: 8, size: 40, seed: 3 });
  result(['dataset', 'add', 'shapes', '--labeled', data.labeled, '--unlabeled', data.unlabeled, '--val', data.val]);
  result(['teacher', 'train', 'tiny', '--dataset', 'shapes', '--arch', 'refnet', '--size', '32', '--epochs', '1', '--batch', '16']);
}, 300_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('zoo methods through `distill run`', () => {
  it.each([
    ['dkd', ['--alpha', '1', '--beta', '8', '--temperature', '4', '--dkd-warmup', '2'], ['loss/ce', 'loss/tckd', 'loss/nckd']],
    ['dist', ['--beta', '1', '--gamma', '2'], ['loss/ce', 'loss/dist_inter', 'loss/dist_intra']],
    ['wsl', ['--alpha', '2.25', '--temperature', '2'], ['loss/ce', 'loss/wsl']],
  ] as const)('%s trains one epoch and logs its loss parts, all finite', (method, flags, parts) => {
    const r = result([
      'run', '--name', `${method}-1`, '--method', method, '--teacher', 'tiny', '--dataset', 'shapes',
      '--arch', 'refnet', '--size', '32', '--batch', '16', '--epochs', '1', ...flags,
    ]);
    expect(r.epochs).toBe(1);
    expect(typeof r.valAccuracy).toBe('number');
    const byName = lossParts(r.run);
    for (const p of [...parts, 'loss']) {
      expect(byName.get(p), `${method}: ${p}`).toBeDefined();
      expect(byName.get(p)!.finite).toBe(byName.get(p)!.n);
    }
    // The soft term really contributes (two classes: NCKD and DIST's inter part are 0 by construction).
    const soft = { dkd: 'loss/tckd', dist: 'loss/dist_intra', wsl: 'loss/wsl' }[method];
    expect(byName.get(soft)!.nonzero).toBeGreaterThan(0);
    const config = JSON.parse(query<{ config_json: string }>('SELECT config_json FROM runs WHERE id = ?', r.run)[0]!.config_json) as {
      loss: Record<string, unknown>;
    };
    if (method === 'dkd') expect(config.loss).toMatchObject({ alpha: 1, beta: 8, dkdWarmupEpochs: 2 });
    if (method === 'dist') expect(config.loss).toMatchObject({ beta: 1, gamma: 2 });
  }, 300_000);

  it.each([
    ['fitnets', [], ['loss/ce', 'loss/feat'], { beta: 1 }],
    ['rkd', [], ['loss/ce', 'loss/rkd_dist', 'loss/rkd_angle'], { beta: 25, gamma: 50 }],
    ['at', [], ['loss/ce', 'loss/at'], { beta: 1000 }],
    ['udml', ['--gamma', '2'], ['loss/ce_s0', 'loss/js_s1', 'loss/feat_peer_s0', 'loss/feat_peer_s1'], { gamma: 2 }],
  ] as const)('%s (feature method) trains one epoch from its own defaults and logs its parts, all finite and non-zero', (method, flags, parts, loss) => {
    const r = result([
      'run', '--name', `${method}-1`, '--method', method, '--teacher', 'tiny', '--dataset', 'shapes',
      '--arch', 'refnet', '--size', '32', '--batch', '16', '--epochs', '1', ...flags,
    ]);
    expect(r.epochs).toBe(1);
    const byName = lossParts(r.run);
    for (const p of [...parts, 'loss']) {
      expect(byName.get(p), `${method}: ${p}`).toBeDefined();
      expect(byName.get(p)!.finite).toBe(byName.get(p)!.n);
      expect(byName.get(p)!.nonzero, `${method}: ${p}`).toBeGreaterThan(0);
    }
    const config = JSON.parse(query<{ config_json: string }>('SELECT config_json FROM runs WHERE id = ?', r.run)[0]!.config_json) as { loss: Record<string, unknown> };
    expect(config.loss).toMatchObject(loss);
  }, 300_000);

  it('at reads the layers the config names (a spatial stage of each), and a layer that does not exist is refused before any step', () => {
    const file = path.join(work, 'at-named.json');
    fs.writeFileSync(file, JSON.stringify({ ...TINY, name: 'at-named', method: 'at', loss: { beta: 1000, featureLayers: { student: 's3_pw2', teacher: 's2_pw2' } } }));
    const r = result(['run', '--config', file]);
    const at = lossParts(r.run).get('loss/at')!;
    expect(at.finite).toBe(at.n);
    expect(at.nonzero).toBeGreaterThan(0);
    fs.writeFileSync(file, JSON.stringify({ ...TINY, name: 'at-missing', method: 'at', loss: { featureLayers: { teacher: 'no_such_layer' } } }));
    const bad = cli(['run', '--config', file]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/method "at" reads the teacher's features; teacher "tiny" has no layer "no_such_layer"/);
  }, 300_000);

  it('an ONNX teacher feeds FitNets and feature regression through graph outputs; a value its graph lacks is refused before any step', () => {
    // The tiny teacher exported as ONNX and imported: its features are values of the graph.
    const onnxDir = path.join(work, 'tiny-onnx');
    result(['export', 'tiny', '--format', 'onnx', '--out', onnxDir]);
    result(['teacher', 'import', 'tiny-onnx', path.join(onnxDir, 'model.onnx'), '--classes', 'circle,square']);
    const common = ['--teacher', 'tiny-onnx', '--dataset', 'shapes', '--arch', 'refnet', '--size', '32', '--batch', '16', '--epochs', '1'];
    for (const [name, flags, parts] of [
      ['fitnets-onnx', ['--method', 'fitnets'], ['loss/ce', 'loss/feat']],
      ['kd-feat-onnx', ['--method', 'kd', '--feature-weight', '1'], ['loss/kd', 'loss/feat']],
    ] as const) {
      const r = result(['run', '--name', name, ...flags, ...common]);
      expect(r.epochs).toBe(1);
      const byName = lossParts(r.run);
      for (const p of [...parts, 'loss']) {
        expect(byName.get(p), `${name}: ${p}`).toBeDefined();
        expect(byName.get(p)!.finite).toBe(byName.get(p)!.n);
        expect(byName.get(p)!.nonzero, `${name}: ${p}`).toBeGreaterThan(0);
      }
    }
    const file = path.join(work, 'at-onnx-missing.json');
    fs.writeFileSync(file, JSON.stringify({ ...TINY, teacher: 'tiny-onnx', name: 'at-onnx-missing', method: 'at', loss: { featureLayers: { teacher: 'no_such_value' } } }));
    const bad = cli(['run', '--config', file]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/method "at" reads the teacher's features; teacher "tiny-onnx" \(.*model\.onnx\) has no value "no_such_value" in its graph/);
    const [row] = query<{ status: string; n: number }>(`SELECT r.status, (SELECT COUNT(*) FROM metrics m WHERE m.run_id = r.id AND m.scope = 'step') AS n FROM runs r WHERE r.name = 'at-onnx-missing'`);
    expect(row).toEqual({ status: 'failed', n: 0 });
  }, 300_000);
});

describe('distill sweep', () => {
  it('runs the grid one run after another, grouped, with the best point; progressive τ is a grid value', () => {
    const file = path.join(work, 'base.json');
    fs.writeFileSync(file, JSON.stringify({ ...TINY, name: 'kdsw', method: 'kd', loss: { temperature: 4, alpha: 0.9 } }));
    const r = cli(['sweep', '--config', file, '--grid', 'loss.temperature={"start":4,"end":1},2', '--grid', 'loss.alpha=0.5']);
    expect(r.code, r.stderr).toBe(0);
    const res = r.lines[r.lines.length - 1] as { sweep: number; runs: { run: number; values: Record<string, unknown>; valAccuracy: number }[]; best: { run: number } };
    expect(res.runs.map((x) => x.values)).toEqual([
      { 'loss.temperature': { start: 4, end: 1 }, 'loss.alpha': 0.5 },
      { 'loss.temperature': 2, 'loss.alpha': 0.5 },
    ]);
    for (const x of res.runs) expect(x.valAccuracy).toBeGreaterThanOrEqual(0);
    const bestAcc = Math.max(...res.runs.map((x) => x.valAccuracy));
    expect(res.runs.find((x) => x.run === res.best.run)!.valAccuracy).toBe(bestAcc);
    const rows = query<{ id: number; name: string; status: string; sweep_id: number; config_json: string }>(
      'SELECT id, name, status, sweep_id, config_json FROM runs WHERE sweep_id = ? ORDER BY id',
      res.sweep,
    );
    expect(rows.map((x) => [x.name, x.status])).toEqual([
      ['kdsw/τ=4→1,α=0.5', 'completed'],
      ['kdsw/τ=2,α=0.5', 'completed'],
    ]);
    expect((JSON.parse(rows[0]!.config_json) as { loss: { temperature: unknown } }).loss.temperature).toEqual({ start: 4, end: 1 });
    expect(query<{ status: string }>('SELECT status FROM sweeps WHERE id = ?', res.sweep)[0]!.status).toBe('completed');
    // The run-level events came with ids, so a caller can follow each run live.
    expect(r.lines.filter((l) => l.type === 'run').map((l) => l.run)).toEqual(rows.map((x) => x.id));
  }, 300_000);

  it('refuses a bad grid before creating anything', () => {
    const file = path.join(work, 'base.json');
    const before = query<{ n: number }>('SELECT COUNT(*) AS n FROM sweeps')[0]!.n;
    const r = cli(['sweep', '--config', file, '--grid', 'loss.temperature=2,-1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/distill: sweep point τ=-1: loss.temperature/);
    const missing = cli(['sweep', '--config', path.join(work, 'nope.json'), '--grid', 'loss.alpha=0.5']);
    expect(missing.stderr).toMatch(/distill: --config .*nope.json: ENOENT/);
    expect(query<{ n: number }>('SELECT COUNT(*) AS n FROM sweeps')[0]!.n).toBe(before);
  }, 120_000);

  it('Ctrl-C stops the sweep and keeps the finished runs', async () => {
    const file = path.join(work, 'base-c.json');
    // Runs long enough (~2 s each) that the second is still training when the interrupt lands: a run
    // of two epochs on this tiny set can finish between its first progress line and the signal.
    fs.writeFileSync(file, JSON.stringify({ ...TINY, name: 'cc', method: 'kd', epochs: 8 }));
    const child = spawn(process.execPath, [BIN, 'sweep', '--config', file, '--grid', 'loss.temperature=1,2,3', '--json', '--home', home], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // Interrupt once the first run has finished and the second has started training.
        if (/"type":"sweep-run"/.test(out) && (out.match(/"type":"progress","phase":"train"/g) ?? []).length > 0 && !child.killed) {
          const afterFirst = out.slice(out.indexOf('"type":"sweep-run"'));
          if (/"type":"progress"/.test(afterFirst)) child.kill('SIGINT');
        }
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).not.toBe(0);
    expect(err).toMatch(/distill: sweep \d+ cancelled after 1 finished run\(s\); they are kept/);
    const sweepId = (JSON.parse(out.split('\n').find((l) => l.includes('"type":"sweep"'))!) as { sweep: number }).sweep;
    expect(query<{ status: string }>('SELECT status FROM sweeps WHERE id = ?', sweepId)[0]!.status).toBe('cancelled');
    const runs = query<{ name: string; status: string }>('SELECT name, status FROM runs WHERE sweep_id = ? ORDER BY id', sweepId);
    expect(runs).toEqual([
      { name: 'cc/τ=1', status: 'completed' },
      { name: 'cc/τ=2', status: 'cancelled' },
    ]);
  }, 300_000);
});
