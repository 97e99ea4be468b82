import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDb, resolveHome, SCHEMA_VERSION, userVersion } from '../../src/main/store/db.js';
import { MIGRATIONS } from '../../src/main/store/migrations/index.js';
import { Store } from '../../src/main/store/index.js';
import { HEARTBEAT_STALE_MS } from '../../src/main/store/runs.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-store-mig-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const tables = (db: Database.Database) =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
const indexes = (db: Database.Database) =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[]).map((r) => r.name);

/** Every table, index and trigger definition, for comparing migrated files with fresh ones. */
const schema = (db: Database.Database) =>
  db.prepare(`SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`).all();
function freshSchema() {
  const db = openDb(path.join(dir, `fresh-${Math.random().toString(36).slice(2)}.db`));
  const s = schema(db);
  db.close();
  return s;
}

describe('migrations', () => {
  it('are numbered 1..n and the schema version is the last one', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
  });

  it('build the whole schema from an empty file', () => {
    const file = path.join(dir, 'empty.db');
    fs.writeFileSync(file, '');
    const db = openDb(file);
    expect(userVersion(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).toEqual(
      [
        'checkpoints',
        'dataset_folders',
        'datasets',
        'exports',
        'images',
        'metrics',
        'mining_selections',
        'minings',
        'run_predictions',
        'runs',
        'sweeps',
        'teacher_predictions',
        'teachers',
      ].sort(),
    );
    expect(indexes(db)).toContain('metrics_by_run');
    expect(indexes(db)).toContain('metrics_by_run_step');
    db.close();
  });

  it('reopen an existing database at the current version without touching it', () => {
    const file = path.join(dir, 'd.db');
    const a = openDb(file);
    a.prepare(`INSERT INTO datasets (name, created_at, updated_at) VALUES ('x', 't', 't')`).run();
    a.close();
    const b = openDb(file);
    expect(userVersion(b)).toBe(SCHEMA_VERSION);
    expect(b.prepare('SELECT name FROM datasets').all()).toEqual([{ name: 'x' }]);
    // Migrating again is a no-op.
    expect(migrate(b)).toBe(SCHEMA_VERSION);
    b.close();
  });

  it('upgrade a database from version N-1 to N, keeping its rows', () => {
    const file = path.join(dir, 'old.db');
    const old = openDb(file, { targetVersion: SCHEMA_VERSION - 1 });
    expect(userVersion(old)).toBe(SCHEMA_VERSION - 1);
    old.prepare(`INSERT INTO datasets (name, created_at, updated_at) VALUES ('kept', 't', 't')`).run();
    old.close();

    const db = openDb(file);
    expect(userVersion(db)).toBe(SCHEMA_VERSION);
    expect(schema(db)).toEqual(freshSchema());
    expect(db.prepare('SELECT name FROM datasets').all()).toEqual([{ name: 'kept' }]);
    db.close();
  });

  it('reach the same schema from every earlier version', () => {
    const fresh = freshSchema();
    for (let v = 1; v < SCHEMA_VERSION; v++) {
      const file = path.join(dir, `v${v}.db`);
      openDb(file, { targetVersion: v }).close();
      const db = openDb(file);
      expect(schema(db), `from version ${v}`).toEqual(fresh);
      db.close();
    }
  });

  it('add the browse and resume indexes in migration 2', () => {
    const file = path.join(dir, 'v1.db');
    const v1 = openDb(file, { targetVersion: 1 });
    expect(indexes(v1)).not.toContain('metrics_by_run_step');
    v1.close();
    const v2 = openDb(file, { targetVersion: 2 });
    expect(indexes(v2)).toEqual(expect.arrayContaining(['metrics_by_run_step', 'teacher_predictions_by_confidence', 'mining_selections_by_image']));
    v2.close();
  });

  it('migration 4 rebuilds runs with the stalled and interrupted statuses and a heartbeat, keeping runs and what references them', () => {
    const file = path.join(dir, 'v3.db');
    const v3 = openDb(file, { targetVersion: 3 });
    v3.prepare(`INSERT INTO datasets (id, name, created_at, updated_at) VALUES (1, 'd', 't', 't')`).run();
    v3.prepare(
      `INSERT INTO runs (id, name, dataset_id, method, config_json, status, created_at, pid, control) VALUES (7, 'r', 1, 'ce', '{}', 'running', 't', 123, 'pause')`,
    ).run();
    v3.prepare(`INSERT INTO metrics (run_id, scope, step, epoch, name, value, time) VALUES (7, 'step', 1, 0.1, 'loss', 0.5, 1)`).run();
    v3.prepare(`INSERT INTO checkpoints (run_id, epoch, step, dir, created_at) VALUES (7, 0, 10, '/x', 't')`).run();
    expect(() => v3.prepare(`UPDATE runs SET status = 'stalled' WHERE id = 7`).run()).toThrow(/CHECK/);
    v3.close();

    const db = openDb(file, { targetVersion: 4 });
    expect(db.prepare('SELECT id, name, status, pid, control, heartbeat_at FROM runs').all()).toEqual([
      { id: 7, name: 'r', status: 'running', pid: 123, control: 'pause', heartbeat_at: null },
    ]);
    expect(db.prepare('SELECT COUNT(*) n FROM metrics WHERE run_id = 7').get()).toEqual({ n: 1 });
    expect(db.prepare('SELECT COUNT(*) n FROM checkpoints WHERE run_id = 7').get()).toEqual({ n: 1 });
    for (const s of ['stalled', 'interrupted']) db.prepare(`UPDATE runs SET status = ? WHERE id = 7`).run(s);
    expect(() => db.prepare(`UPDATE runs SET status = 'bogus' WHERE id = 7`).run()).toThrow(/CHECK/);
    // Foreign keys are back on, and still point at the rebuilt table: deleting the run cascades.
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(indexes(db)).toContain('runs_by_dataset');
    db.prepare('DELETE FROM runs WHERE id = 7').run();
    expect(db.prepare('SELECT COUNT(*) n FROM metrics').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT COUNT(*) n FROM checkpoints').get()).toEqual({ n: 0 });
    db.close();
  });

  it('add sweeps in migration 5: existing runs keep their rows, ungrouped', () => {
    const file = path.join(dir, 'v5.db');
    const v4 = openDb(file, { targetVersion: 4 });
    expect(tables(v4)).not.toContain('sweeps');
    v4.prepare(`INSERT INTO datasets (name, created_at, updated_at) VALUES ('d', 't', 't')`).run();
    v4.prepare(
      `INSERT INTO runs (name, dataset_id, method, config_json, status, created_at) VALUES ('old', 1, 'kd', '{}', 'completed', 't')`,
    ).run();
    v4.close();
    const v5 = openDb(file, { targetVersion: 5 });
    expect(tables(v5)).toContain('sweeps');
    expect(indexes(v5)).toContain('runs_by_sweep');
    expect(v5.prepare('SELECT name, sweep_id, sweep_values_json FROM runs').all()).toEqual([{ name: 'old', sweep_id: null, sweep_values_json: null }]);
    // A run's sweep must exist; deleting the sweep ungroups its runs instead of deleting them.
    expect(() => v5.prepare('UPDATE runs SET sweep_id = 99').run()).toThrow(/FOREIGN KEY/);
    v5.prepare(`INSERT INTO sweeps (name, base_config_json, grid_json, status, created_at) VALUES ('s', '{}', '[]', 'running', 't')`).run();
    v5.prepare('UPDATE runs SET sweep_id = 1').run();
    v5.prepare('DELETE FROM sweeps').run();
    expect(v5.prepare('SELECT name, sweep_id FROM runs').all()).toEqual([{ name: 'old', sweep_id: null }]);
    expect(() => v5.prepare(`INSERT INTO sweeps (name, base_config_json, grid_json, status, created_at) VALUES ('s', '{}', '[]', 'done', 't')`).run()).toThrow(/CHECK/);
    v5.close();
  });

  it('roll back a failing migration and leave the file at the previous version', () => {
    const file = path.join(dir, 'fail.db');
    const broken = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'broken', up: (d: Database.Database) => d.exec('CREATE TABLE t1 (a); SELECT * FROM no_such_table') }];
    expect(() => openDb(file, { migrations: broken })).toThrow(/no_such_table/);
    const db = openDb(file);
    expect(userVersion(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).not.toContain('t1');
    db.close();
  });

  it('refuse a database made by a newer version', () => {
    const file = path.join(dir, 'new.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    expect(() => openDb(file)).toThrow(/newer than this app/);
  });
});

describe('connection settings', () => {
  it('turn on WAL, foreign keys and a busy timeout', () => {
    const db = openDb(path.join(dir, 'p.db'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThanOrEqual(1000);
    expect(() =>
      db.prepare(`INSERT INTO dataset_folders (dataset_id, role, path) VALUES (999, 'labeled', '/x')`).run(),
    ).toThrow(/FOREIGN KEY/);
    expect(() => db.prepare(`INSERT INTO datasets (name, created_at, updated_at) VALUES ('a','t','t')`).run()).not.toThrow();
    expect(() => db.prepare(`INSERT INTO dataset_folders (dataset_id, role, path) VALUES (1, 'train', '/x')`).run()).toThrow(/CHECK/);
    db.close();
  });

  it('let a writer wait for another process that holds the write lock', async () => {
    const file = path.join(dir, 'busy.db');
    openDb(file).close();
    // A second process takes the write lock and holds it for 600 ms.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(file)});
         db.exec("BEGIN IMMEDIATE; INSERT INTO datasets (name, created_at, updated_at) VALUES ('other','t','t')");
         process.stdout.write('locked\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
         db.exec('COMMIT'); db.close();`,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()));
    const db = openDb(file, { busyTimeoutMs: 10_000 });
    const t0 = Date.now();
    db.prepare(`INSERT INTO datasets (name, created_at, updated_at) VALUES ('mine','t','t')`).run();
    const waited = Date.now() - t0;
    await new Promise((resolve) => child.on('exit', resolve));
    expect(waited).toBeGreaterThan(100);
    expect((db.prepare('SELECT name FROM datasets ORDER BY id').all() as { name: string }[]).map((r) => r.name)).toEqual(['other', 'mine']);
    db.close();
  });
});

describe('resolveHome', () => {
  const saved = process.env.DISTILL_HOME;
  afterEach(() => {
    if (saved === undefined) delete process.env.DISTILL_HOME;
    else process.env.DISTILL_HOME = saved;
  });

  it('prefers the flag, then $DISTILL_HOME, then ~/.distill-studio', () => {
    process.env.DISTILL_HOME = '/tmp/from-env';
    expect(resolveHome('/tmp/from-flag')).toBe('/tmp/from-flag');
    expect(resolveHome()).toBe('/tmp/from-env');
    expect(resolveHome('rel/dir')).toBe(path.resolve('rel/dir'));
    delete process.env.DISTILL_HOME;
    expect(resolveHome()).toBe(path.join(os.homedir(), '.distill-studio'));
    expect(resolveHome('~/x')).toBe(path.join(os.homedir(), 'x'));
  });

  it('Store.open creates <home>/distill.db', () => {
    const home = path.join(dir, 'nested', 'home');
    const store = Store.open(home);
    expect(fs.existsSync(path.join(home, 'distill.db'))).toBe(true);
    expect(store.home).toBe(home);
    expect(store.thumbsDir).toBe(path.join(home, 'thumbs'));
    store.close();
  });
});

describe('run liveness in the registry', () => {
  it('an active run whose pid is gone, or whose heartbeat is stale, reads as interrupted; the row is untouched', async () => {
    const store = Store.open(path.join(dir, 'home'));
    store.db.prepare(`INSERT INTO datasets (id, name, created_at, updated_at) VALUES (1, 'd', 't', 't')`).run();
    const run = store.runs.createRun({ config: { name: 'r', dataset: 'd', method: 'ce', student: { arch: 'refnet', inputSize: 32 }, epochs: 1 }, datasetId: 1 });
    store.runs.setRunStatus(run.id, 'running');
    // A real process that is then gone.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    store.runs.heartbeatRun(run.id, child.pid!);
    expect(store.runs.requireRun(run.id).status).toBe('running');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(store.runs.requireRun(run.id).status).toBe('interrupted');
    expect((store.db.prepare('SELECT status FROM runs WHERE id = ?').get(run.id) as { status: string }).status).toBe('running');

    // Our own (live) pid with a heartbeat older than the limit: interrupted too; a fresh beat: running.
    store.runs.heartbeatRun(run.id, process.pid, Date.now() - HEARTBEAT_STALE_MS - 1000);
    expect(store.runs.requireRun(run.id).status).toBe('interrupted');
    store.runs.heartbeatRun(run.id, process.pid);
    expect(store.runs.requireRun(run.id).status).toBe('running');
    // Terminal statuses are never rewritten.
    store.runs.setRunStatus(run.id, 'completed');
    store.runs.heartbeatRun(run.id, 999_999_999, 0);
    expect(store.runs.requireRun(run.id).status).toBe('completed');
    store.close();
  });
});
