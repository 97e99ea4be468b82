import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JobRunner } from '../../src/main/services/job-runner.js';
import { JobInfo } from '../../src/shared/api.js';

// A stand-in for bin/distill.js that speaks the CLI's --json line protocol; its first argument picks the behaviour.
const FAKE = `
const [mode, ...rest] = process.argv.slice(2);
const home = rest[rest.indexOf('--home') + 1];
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
if (mode === 'ok') {
  out({ type: 'run', run: 7 });
  for (let i = 1; i <= 4; i++) out({ type: 'progress', phase: 'train', done: i, total: 4, message: 'step ' + i });
  process.stdout.write('not json\\n');
  out({ run: 7, valAccuracy: 0.75, home, json: rest.includes('--json') });
} else if (mode === 'fail') {
  out({ type: 'progress', phase: 'train', done: 1, total: 10 });
  process.stderr.write('some warning\\ndistill: dataset "nope" not found\\n');
  out({ error: 'dataset "nope" not found' });
  process.exit(2);
} else if (mode === 'crash') {
  out({ type: 'progress', phase: 'train', done: 1, total: 10 });
  setTimeout(() => { throw new Error('kernel exploded'); }, 10);
} else if (mode === 'hang') {
  out({ type: 'run', run: 9 });
  process.on('SIGINT', () => { out({ run: 9, cancelled: true }); process.exit(130); });
  setInterval(() => {}, 1000);
} else if (mode === 'stubborn') {
  process.on('SIGINT', () => {});
  out({ type: 'run', run: 10 });
  setInterval(() => {}, 1000);
} else if (mode === 'partial') {
  process.stdout.write(JSON.stringify({ type: 'progress', phase: 'mine', done: 3, total: 6 }).slice(0, 20));
  setTimeout(() => { process.stdout.write(JSON.stringify({ type: 'progress', phase: 'mine', done: 3, total: 6 }).slice(20) + '\\n'); out({ selected: 3 }); }, 30);
}
`;

let dir: string;
let cli: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-jobs-'));
  cli = path.join(dir, 'fake-cli.mjs');
  fs.writeFileSync(cli, FAKE);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function runner(extra: Partial<ConstructorParameters<typeof JobRunner>[0]> = {}) {
  return new JobRunner({ home: path.join(dir, 'home'), cli, progressIntervalMs: 0, ...extra });
}

describe('JobRunner with a child CLI', () => {
  it('parses progress, the run line and the result, and passes --json --home', async () => {
    const r = runner();
    const events: JobInfo[] = [];
    r.on('job', (j) => events.push(JobInfo.parse(j)));
    const runs: number[] = [];
    const progress: number[] = [];
    const job = r.spawnCli('run', ['ok'], { onRun: (id) => runs.push(id), onProgress: (p) => progress.push(p.done) });
    expect(job.status).toBe('running');
    const done = await r.wait(job.id);
    expect(done.status).toBe('done');
    expect(done.progress).toBe(1);
    expect(done.result).toEqual({ run: 7, valAccuracy: 0.75, home: path.join(dir, 'home'), json: true });
    expect(runs).toEqual([7]);
    expect(progress).toEqual([1, 2, 3, 4]);
    // Every progress step was reported (interval 0) with its fraction, then the final state.
    const fractions = events.filter((e) => e.status === 'running').map((e) => e.progress);
    expect(fractions).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(events.at(-1)!.status).toBe('done');
    expect(events.find((e) => e.progress === 0.5)!.message).toBe('step 2');
    expect(r.get(job.id)!.status).toBe('done');
  });

  it('a failing child fails the job with the CLI error message', async () => {
    const r = runner();
    let exitInfo: { code: number | null; stderr: string } | undefined;
    const job = r.spawnCli('mine', ['fail'], { onExit: (_i, d) => (exitInfo = d) });
    const done = await r.wait(job.id);
    expect(done.status).toBe('failed');
    expect(done.message).toBe('dataset "nope" not found');
    expect(exitInfo!.code).toBe(2);
    expect(exitInfo!.stderr).toContain('some warning');
  });

  it('a crashing child (uncaught exception) fails with its stderr, and the runner survives', async () => {
    const r = runner();
    const job = r.spawnCli('run', ['crash']);
    const done = await r.wait(job.id);
    expect(done.status).toBe('failed');
    expect(done.progress).toBeCloseTo(0.1);
    expect(done.message).toMatch(/kernel exploded/);
    // The runner still works afterwards.
    const again = await r.wait(r.spawnCli('run', ['ok']).id);
    expect(again.status).toBe('done');
  });

  it('a missing node executable fails the job instead of throwing', async () => {
    const r = runner({ nodePath: path.join(dir, 'no-such-node') });
    const job = r.spawnCli('export', ['ok']);
    const done = await r.wait(job.id);
    expect(done.status).toBe('failed');
    expect(done.message).toMatch(/could not start export/);
  });

  it('cancel sends SIGINT and marks the job cancelled', async () => {
    const r = runner();
    let id = '';
    const started = new Promise<number>((resolve) => {
      id = r.spawnCli('run', ['hang'], { onRun: resolve }).id;
    });
    expect(await started).toBe(9);
    expect(r.jobForRun(9)!.id).toBe(id);
    expect(r.cancel(id)).toBe(true);
    const done = await r.wait(id);
    expect(done.status).toBe('cancelled');
    expect(r.jobForRun(9)).toBeUndefined();
    expect(r.cancel(id)).toBe(false);
  });

  it('a child that ignores SIGINT is killed after the grace period', async () => {
    const r = runner({ killGraceMs: 200 });
    let id = '';
    await new Promise<void>((resolve) => {
      id = r.spawnCli('run', ['stubborn'], { onRun: () => resolve() }).id;
    });
    const t0 = Date.now();
    r.cancel(id);
    const done = await r.wait(id);
    expect(done.status).toBe('cancelled');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });

  it('reassembles lines split across chunks', async () => {
    const r = runner();
    const seen: number[] = [];
    const job = r.spawnCli('mine', ['partial'], { onProgress: (p) => seen.push(p.done / p.total) });
    const done = await r.wait(job.id);
    expect(seen).toEqual([0.5]);
    expect(done.result).toEqual({ selected: 3 });
  });
});

describe('JobRunner in-process jobs', () => {
  it('reports progress and the result', async () => {
    const r = runner();
    const events: JobInfo[] = [];
    r.on('job', (j) => events.push(j));
    const job = r.track('import', async (ctx) => {
      for (let i = 1; i <= 3; i++) {
        await new Promise((res) => setTimeout(res, 5));
        ctx.progress(i, 4, `file ${i}`);
      }
      return { labeled: { cat: 3 } };
    });
    expect(job.status).toBe('running');
    const done = await r.wait(job.id);
    expect(done).toMatchObject({ status: 'done', progress: 1, result: { labeled: { cat: 3 } } });
    expect(events.map((e) => e.progress)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('a throwing job fails with its message; cancel aborts the signal', async () => {
    const r = runner();
    const failed = await r.wait(r.track('import', async () => { throw new Error('folder vanished'); }).id);
    expect(failed).toMatchObject({ status: 'failed', message: 'folder vanished' });

    const job = r.track('import', (ctx) => new Promise((_res, rej) => ctx.signal.addEventListener('abort', () => rej(new Error('aborted')))));
    await new Promise((res) => setTimeout(res, 10));
    r.cancel(job.id);
    expect((await r.wait(job.id)).status).toBe('cancelled');
  });
});
