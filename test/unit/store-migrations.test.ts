import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDb, resolveHome, SCHEMA_VERSION, userVersion } from '../../src/main/store/db.js';
import { MIGRATIONS } from '../../src/main/store/migrations/index.js';
import { Store } from '../../src/main/store/index.js';

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

  it('add sweeps in migration 4: existing runs keep their rows, ungrouped', () => {
    const file = path.join(dir, 'v3.db');
    const v3 = openDb(file, { targetVersion: 3 });
    expect(tables(v3)).not.toContain('sweeps');
    v3.prepare(`INSERT INTO datasets (name, created_at, updated_at) VALUES ('d', 't', 't')`).run();
    v3.prepare(
      `INSERT INTO runs (name, dataset_id, method, config_json, status, created_at) VALUES ('old', 1, 'kd', '{}', 'completed', 't')`,
    ).run();
    v3.close();
    const v4 = openDb(file, { targetVersion: 4 });
    expect(tables(v4)).toContain('sweeps');
    expect(indexes(v4)).toContain('runs_by_sweep');
    expect(v4.prepare('SELECT name, sweep_id, sweep_values_json FROM runs').all()).toEqual([{ name: 'old', sweep_id: null, sweep_values_json: null }]);
    // A run's sweep must exist; deleting the sweep ungroups its runs instead of deleting them.
    expect(() => v4.prepare('UPDATE runs SET sweep_id = 99').run()).toThrow(/FOREIGN KEY/);
    v4.prepare(`INSERT INTO sweeps (name, base_config_json, grid_json, status, created_at) VALUES ('s', '{}', '[]', 'running', 't')`).run();
    v4.prepare('UPDATE runs SET sweep_id = 1').run();
    v4.prepare('DELETE FROM sweeps').run();
    expect(v4.prepare('SELECT name, sweep_id FROM runs').all()).toEqual([{ name: 'old', sweep_id: null }]);
    expect(() => v4.prepare(`INSERT INTO sweeps (name, base_config_json, grid_json, status, created_at) VALUES ('s', '{}', '[]', 'done', 't')`).run()).toThrow(/CHECK/);
    v4.close();
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
