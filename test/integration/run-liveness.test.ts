// A long run never hangs silently and the registry tells the truth, through the real `distill` CLI:
// a step stuck in a synchronous busy loop (as a WASM kernel spinning in malloc) is caught by the
// watchdog thread (status 'stalled', the stuck place and stack in the run's log, non-zero exit, the
// resume command on stderr); a trainer killed with SIGKILL reads as 'interrupted'; Ctrl-C while the
// main thread is stuck still ends the process after the grace period.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticDataset } from '../../src/main/demo/synthetic-dataset.js';
import { Store } from '../../src/main/store/index.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'distill.js');
let work: string;
let home: string;

const RUN_FLAGS = ['--dataset', 'shapes', '--method', 'ce', '--arch', 'refnet', '--size', '32', '--batch', '8', '--epochs', '2', '--seed', '1'];

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--json', '--home', home], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: r.status, signal: r.signal, lines, stderr: r.stderr };
}

function runRow(id: number): { status: string; error: string | null; pid: number | null } {
  const db = new Database(path.join(home, 'distill.db'), { readonly: true });
  const row = db.prepare('SELECT status, error, pid FROM runs WHERE id = ?').get(id) as { status: string; error: string | null; pid: number | null };
  db.close();
  return row;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-live-'));
  home = path.join(work, 'home');
  const data = await makeSyntheticDataset({ dir: path.join(work, 'data'), labeledPerClass: 40, unlabeled: 12, valPerClass: 8, size: 40, seed: 2 });
  const r = cli(['dataset', 'add', 'shapes', '--labeled', data.labeled, '--unlabeled', data.unlabeled, '--val', data.val]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('run liveness', () => {
  it('a step that is slow without using the CPU (a starved trainer) is not taken for a stall', () => {
    // 12 s idle against a 3 s limit: the process burns no CPU meanwhile, so only 10 × the limit would end it.
    const r = cli(['run', '--name', 'starved', ...RUN_FLAGS], { DISTILL_TEST_SLEEP_AT_STEP: '8:12', DISTILL_STALL_SECONDS: '3' });
    expect(r.stderr).not.toMatch(/stalled/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines.at(-1)).toMatchObject({ epochs: expect.any(Number) });
  });

  it('a step stuck in a busy loop: the watchdog marks the run stalled, logs where, exits non-zero and prints the resume command', () => {
    const started = Date.now();
    const r = cli(['run', '--name', 'stuck', ...RUN_FLAGS], { DISTILL_TEST_HANG_AT_STEP: '8', DISTILL_STALL_SECONDS: '3' });
    const runId = r.lines.find((l) => l.type === 'run')!.run as number;
    expect(r.code === 0 && r.signal === null).toBe(false);
    expect(Date.now() - started).toBeLessThan(120_000);
    // One line on stderr: the stall and the exact resume command.
    const stall = r.stderr.split('\n').filter((l) => l.includes('stalled'));
    expect(stall).toHaveLength(1);
    expect(stall[0]).toMatch(/^distill: run \d+ "stuck" stalled/);
    expect(stall[0]).toContain(`distill run --resume ${runId}`);
    // Steps 1–7 completed, the 8th never did.
    expect(stall[0]).toMatch(/phase train, epoch 1, step 7/);

    const row = runRow(runId);
    expect(row.status).toBe('stalled');
    expect(row.pid).toBeNull();
    expect(row.error).toContain('no progress for');
    const log = fs.readFileSync(path.join(home, 'runs', String(runId), 'run.log'), 'utf8');
    expect(log).toMatch(/stalled: no progress for \d+ s \(limit \d+ s; \d+ CPU-s used meanwhile\) in phase train, epoch 1, step 7/);
    // The main thread's stack, paused from the watchdog thread: the busy loop is in the sink's step.
    expect(log).toMatch(/at step \(.*run-job\.ts:\d+:\d+\)/);

    // It reads as stalled everywhere the registry is read, and resumes to completion.
    const store = Store.open(home);
    expect(store.runs.requireRun(runId).status).toBe('stalled');
    store.close();
    const resumed = cli(['run', '--resume', String(runId)]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.lines.at(-1)!.epochs).toBe(2);
    // ce has no teacher: no teacher–student agreement, so the unlabeled pool is never predicted.
    expect(JSON.stringify(resumed.lines)).not.toContain('unlabeled pool');
    const db = new Database(path.join(home, 'distill.db'), { readonly: true });
    const pool = db
      .prepare(`SELECT COUNT(*) n FROM run_predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? AND i.role = 'unlabeled'`)
      .get(runId) as { n: number };
    const val = db.prepare(`SELECT COUNT(*) n FROM run_predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? AND i.role = 'val'`).get(runId) as { n: number };
    db.close();
    expect(pool.n).toBe(0);
    expect(val.n).toBe(16);
  }, 300_000);

  it('a trainer killed with SIGKILL reads as interrupted (pid gone), and the runs command says so', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--name', 'killed', ...RUN_FLAGS, '--epochs', '30', '--json', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
    let runId = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no training step within 2 minutes')), 120_000);
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        for (const line of buf.split('\n').slice(0, -1)) {
          const o = JSON.parse(line) as { type?: string; run?: number; done?: number };
          if (o.type === 'run') runId = o.run!;
          if (o.type === 'progress' && (o.done ?? 0) >= 3) {
            clearTimeout(timer);
            resolve();
          }
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      });
    });
    const store = Store.open(home);
    expect(store.runs.requireRun(runId).status).toBe('running');
    const pid = child.pid!;
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(alive(pid)).toBe(false);
    // The row still says running (nobody could write), the registry reads the truth.
    expect(runRow(runId).status).toBe('running');
    expect(store.runs.requireRun(runId).status).toBe('interrupted');
    store.close();
    const ls = cli(['runs', 'ls']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.stringify(ls.lines)).toContain('"interrupted"');
  }, 300_000);

  it('Ctrl-C while the main thread is stuck: the process ends after the grace period, checkpoints kept, the run reads interrupted', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--name', 'ctrlc', ...RUN_FLAGS, '--epochs', '3', '--json', '--home', home], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, as a terminal's foreground job
      env: { ...process.env, DISTILL_TEST_HANG_AT_STEP: '14', DISTILL_STALL_SECONDS: '600', DISTILL_INTERRUPT_GRACE_SECONDS: '2' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let runId = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never reached the stuck step: ${stderr}`)), 180_000);
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        for (const line of buf.split('\n').slice(0, -1)) {
          const o = JSON.parse(line) as { type?: string; run?: number; done?: number };
          if (o.type === 'run') runId = o.run!;
          // Progress lines are throttled: any step of epoch 2 means epoch 1's checkpoint is written.
          if (o.type === 'progress' && (o.done ?? 0) >= 11) {
            clearTimeout(timer);
            resolve();
          }
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      });
    });
    await new Promise((r) => setTimeout(r, 6000)); // steps take well under a second: now spinning in step 14
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    const t0 = Date.now();
    process.kill(-child.pid!, 'SIGINT');
    const end = await exited;
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(end.code === 0).toBe(false);
    expect(stderr).toContain(`resume with: distill run --resume ${runId}`);
    const store = Store.open(home);
    expect(store.runs.requireRun(runId).status).toBe('interrupted');
    expect(store.checkpoints.listCheckpoints(runId).length).toBeGreaterThan(0); // epoch 1 (10 steps) was saved
    store.close();
  }, 300_000);
});
