// Runs that tell the truth: 'stalled' (the watchdog ended a trainer that stopped making progress) and
// 'interrupted' (the trainer process is gone) join the statuses, and the trainer's heartbeat is stored.
// SQLite cannot change a CHECK constraint in place, so the table is rebuilt (sqlite.org/lang_altertable.html,
// "making other kinds of table schema changes"); other tables reference runs, so foreign keys are off for it.
import type { Migration } from './index.js';

export const m004RunLiveness: Migration = {
  version: 4,
  name: 'run-liveness',
  foreignKeysOff: true,
  up(db) {
    db.exec(`
      CREATE TABLE runs_new (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        name            TEXT NOT NULL UNIQUE,
        dataset_id      INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        teacher_id      INTEGER REFERENCES teachers(id) ON DELETE SET NULL,
        method          TEXT NOT NULL,
        config_json     TEXT NOT NULL,
        classes_json    TEXT,
        status          TEXT NOT NULL CHECK (status IN ('queued','running','paused','completed','failed','cancelled','stalled','interrupted')),
        backend_json    TEXT,
        error           TEXT,
        flags_json      TEXT NOT NULL DEFAULT '[]',
        epochs_done     INTEGER NOT NULL DEFAULT 0,
        best_val_acc    REAL,
        last_val_acc    REAL,
        img_per_sec     REAL,
        params          INTEGER,
        pid             INTEGER,
        created_at      TEXT NOT NULL,
        started_at      TEXT,
        finished_at     TEXT,
        wall_seconds    REAL,
        control         TEXT CHECK (control IS NULL OR control IN ('pause','cancel')),
        heartbeat_at    REAL
      );
      INSERT INTO runs_new (id, name, dataset_id, teacher_id, method, config_json, classes_json, status, backend_json, error,
                            flags_json, epochs_done, best_val_acc, last_val_acc, img_per_sec, params, pid, created_at,
                            started_at, finished_at, wall_seconds, control)
        SELECT id, name, dataset_id, teacher_id, method, config_json, classes_json, status, backend_json, error,
               flags_json, epochs_done, best_val_acc, last_val_acc, img_per_sec, params, pid, created_at,
               started_at, finished_at, wall_seconds, control FROM runs;
      DROP TABLE runs;
      ALTER TABLE runs_new RENAME TO runs;
      CREATE INDEX runs_by_dataset ON runs(dataset_id);
    `);
  },
};
