// Opens the one SQLite file under the home folder. The trainer process and the server write to it
// concurrently, hence WAL (readers never block the writer) and a busy timeout (writers wait, not fail).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export type Db = Database.Database;

export const DB_FILE = 'distill.db';
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** --home flag, else $DISTILL_HOME, else ~/.distill-studio (Electron passes app.getPath('userData')). */
export function resolveHome(opt?: string): string {
  const raw = opt && opt.length > 0 ? opt : process.env.DISTILL_HOME || path.join(os.homedir(), '.distill-studio');
  const expanded = raw === '~' ? os.homedir() : raw.startsWith('~/') ? path.join(os.homedir(), raw.slice(2)) : raw;
  return path.resolve(expanded);
}

export interface OpenOptions {
  /** Milliseconds a writer waits for another process's lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  readonly?: boolean;
  /** Only for tests: stop migrating at this version. */
  targetVersion?: number;
  migrations?: readonly Migration[];
}

/** Opens (creating if needed) a database file and brings its schema up to date. */
export function openDb(file: string, opts: OpenOptions = {}): Db {
  if (!opts.readonly) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 10_000))}`);
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      // NORMAL is durable across application crashes in WAL mode; only an OS crash may lose the last commit.
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    if (!opts.readonly) migrate(db, opts.migrations ?? MIGRATIONS, opts.targetVersion);
    else {
      const v = userVersion(db);
      if (v !== SCHEMA_VERSION) throw new Error(`database ${file} is at schema version ${v}, expected ${SCHEMA_VERSION}`);
    }
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

export function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies every migration above the file's user_version, each in its own IMMEDIATE transaction
 * together with the user_version bump, so a crash mid-way leaves the file at a clean version and
 * two processes opening a fresh file at once never both migrate.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS, target?: number): number {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 1..n without gaps (found ${m.version} at ${i + 1})`);
  });
  const last = target ?? sorted.length;
  const current = userVersion(db);
  if (current > sorted.length) {
    throw new Error(`database schema version ${current} is newer than this app (${sorted.length}); update Distill Studio`);
  }
  for (const m of sorted) {
    if (m.version > last) break;
    // Checked outside the lock too, so opening an up-to-date file never waits for another writer.
    if (userVersion(db) >= m.version) continue;
    const step = db.transaction(() => {
      // Re-read inside the lock: another process may have migrated since we looked.
      if (userVersion(db) >= m.version) return;
      m.up(db);
      if (m.foreignKeysOff) {
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new Error(`migration ${m.version} (${m.name}) would break ${broken.length} foreign key reference(s)`);
      }
      db.pragma(`user_version = ${m.version}`);
    });
    // The pragma is a no-op inside a transaction, so it is switched around it.
    const fkWasOn = db.pragma('foreign_keys', { simple: true }) === 1;
    if (m.foreignKeysOff && fkWasOn) db.pragma('foreign_keys = OFF');
    try {
      step.immediate();
    } finally {
      if (m.foreignKeysOff && fkWasOn) db.pragma('foreign_keys = ON');
    }
  }
  return userVersion(db);
}

/**
 * Runs fn in a write transaction taken with BEGIN IMMEDIATE: a deferred transaction that later
 * upgrades to a write lock can fail with SQLITE_BUSY without waiting when another process writes.
 * Nested calls become savepoints.
 */
export function writeTx<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

export function nowIso(): string {
  return new Date().toISOString();
}
