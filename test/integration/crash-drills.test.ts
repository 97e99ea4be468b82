// Crash drills through real processes: kill -9 during an import and during metrics writes (the
// database opens cleanly, integrity_check says ok, the rescan completes, the run resumes), and two
// `distill run` processes at once on one home (both complete, both recorded).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store/index.js';
import { RunConfig } from '../../src/shared/run-config.js';
import { writeCatdogLike } from '../helpers/synthetic-images.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'distill.js');
let work: string;
let home: string;
let set: { labeled: string; unlabeled: string; val: string };

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-crash-'));
  home = path.join(work, 'home');
  // A pool big enough that the import is still reading when it is killed.
  set = await writeCatdogLike(path.join(work, 'set'), { labeled: 6, unlabeled: 400, val: 3 }, 32);
}, 120_000);
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

interface Finished {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

function start(cmd: string, args: string[]): { child: ChildProcess; done: Promise<Finished>; onLine(f: (o: Record<string, unknown>) => void): void } {
  const child = spawn(process.execPath, cmd === 'distill' ? [BIN, ...args, '--json', '--home', home] : args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const listeners: ((o: Record<string, unknown>) => void)[] = [];
  let buf = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const l of parts) {
      const o = l.startsWith('{') ? (JSON.parse(l) as Record<string, unknown>) : { raw: l };
      lines.push(o);
      for (const f of listeners) f(o);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Finished>((r) => child.on('exit', (code) => r({ code, lines, stderr })));
  return { child, done, onLine: (f) => listeners.push(f) };
}

function integrity(): string {
  const db = new Database(path.join(home, 'distill.db'));
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

describe('kill -9', () => {
  it('during an import: the database is intact and adding the folders again completes the index', async () => {
    const p = start('distill', ['dataset', 'add', 'pool', '--labeled', set.labeled, '--unlabeled', set.unlabeled, '--val', set.val]);
    let killedAt = -1;
    p.onLine((o) => {
      if (killedAt < 0 && o.type === 'progress' && o.phase === 'import-read' && Number(o.done) >= 40) {
        killedAt = Number(o.done);
        p.child.kill('SIGKILL');
      }
    });
    const r = await p.done;
    expect(killedAt, `the import ended before it could be killed: ${r.stderr}`).toBeGreaterThan(0);
    expect(r.code).toBeNull();
    expect(integrity()).toBe('ok');

    const again = await start('distill', ['dataset', 'add', 'pool', '--labeled', set.labeled, '--unlabeled', set.unlabeled, '--val', set.val]).done;
    expect(again.code, again.stderr).toBe(0);
    const res = again.lines.at(-1)!;
    expect(res).toMatchObject({ labeled: { cat: 6, dog: 6 }, unlabeled: 400, val: { cat: 3, dog: 3 }, skipped: [] });
    expect(integrity()).toBe('ok');
    const db = new Database(path.join(home, 'distill.db'), { readonly: true });
    const rows = db.prepare(`SELECT COUNT(*) n, COUNT(DISTINCT path) d FROM images WHERE status = 'ok'`).get() as { n: number; d: number };
    db.close();
    expect(rows).toEqual({ n: 418, d: 418 });
  }, 300_000);

  it('during metrics writes: no partial batch, integrity ok, and the store keeps working', async () => {
    const store = Store.open(home);
    const ds = store.datasets.findDatasetId('pool')!;
    const run = store.runs.createRun({
      config: RunConfig.parse({ name: 'metrics-kill', dataset: String(ds), method: 'ce', student: { arch: 'refnet', inputSize: 32 }, epochs: 1 }),
      datasetId: ds,
    });
    store.close();
    const w = start('node', ['--import', 'tsx', path.join(ROOT, 'test', 'helpers', 'metrics-writer.ts'), home, String(run.id)]);
    let killed = false;
    w.onLine((o) => {
      if (!killed && Number(o.raw) >= 20) {
        killed = true;
        // Mid-transaction with high probability: the writer spends nearly all its time inside one.
        setTimeout(() => w.child.kill('SIGKILL'), 37);
      }
    });
    const r = await w.done;
    expect(killed, r.stderr).toBe(true);
    expect(integrity()).toBe('ok');
    const again = Store.open(home);
    try {
      const n = again.metrics.getMetrics(run.id).length;
      expect(n).toBeGreaterThanOrEqual(20 * 500);
      expect(n % 500).toBe(0);
      again.metrics.insertMetrics(run.id, [{ scope: 'step', step: 1, epoch: 0, name: 'after', value: 1 }]);
      expect(again.metrics.getMetrics(run.id, { name: 'after' })).toHaveLength(1);
    } finally {
      again.close();
    }
  }, 300_000);
});

describe('two runs at once on one home', () => {
  it('both complete and both are recorded with their metrics and checkpoints', async () => {
    const flags = ['--dataset', 'pool', '--method', 'ce', '--arch', 'refnet', '--size', '32', '--epochs', '2', '--batch', '8'];
    const a = start('distill', ['run', '--name', 'twin-a', ...flags, '--seed', '1']);
    const b = start('distill', ['run', '--name', 'twin-b', ...flags, '--seed', '2']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect(integrity()).toBe('ok');
    const store = Store.open(home);
    try {
      for (const name of ['twin-a', 'twin-b']) {
        const run = store.runs.requireRun(name);
        expect(run).toMatchObject({ status: 'completed', epochsDone: 2 });
        expect(store.checkpoints.listCheckpoints(run.id).length).toBe(2);
        expect(store.metrics.getMetrics(run.id, { scope: 'epoch', name: 'val/accuracy' })).toHaveLength(2);
      }
    } finally {
      store.close();
    }
  }, 600_000);
});
