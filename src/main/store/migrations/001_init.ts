// The initial schema. JSON columns end in _json and are parsed with the zod schemas of src/shared on read.
import type { Migration } from './index.js';

const ROLE = `CHECK (role IN ('labeled','unlabeled','val'))`;

export const m001Init: Migration = {
  version: 1,
  name: 'init',
  up(db) {
    db.exec(`
      CREATE TABLE datasets (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        name        TEXT NOT NULL UNIQUE,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );

      CREATE TABLE dataset_folders (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        role        TEXT NOT NULL ${ROLE},
        path        TEXT NOT NULL,
        UNIQUE (dataset_id, path)
      );

      CREATE TABLE images (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        folder_id   INTEGER NOT NULL REFERENCES dataset_folders(id) ON DELETE CASCADE,
        role        TEXT NOT NULL ${ROLE},
        path        TEXT NOT NULL,
        hash        TEXT NOT NULL DEFAULT '',
        bytes       INTEGER NOT NULL DEFAULT 0,
        mtime_ms    REAL NOT NULL DEFAULT 0,
        width       INTEGER,
        height      INTEGER,
        format      TEXT,
        label       TEXT,
        status      TEXT NOT NULL CHECK (status IN ('ok','skipped','duplicate','missing')),
        error       TEXT,
        updated_at  TEXT NOT NULL,
        UNIQUE (dataset_id, path)
      );
      CREATE INDEX images_by_role ON images(dataset_id, role, status, label);
      CREATE INDEX images_by_hash ON images(dataset_id, hash);
      CREATE INDEX images_by_folder ON images(folder_id);

      CREATE TABLE teachers (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        name           TEXT NOT NULL UNIQUE,
        kind           TEXT NOT NULL CHECK (kind IN ('trained','imported')),
        arch           TEXT NOT NULL,
        input_size     INTEGER NOT NULL,
        classes_json   TEXT NOT NULL,
        dataset_id     INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
        val_accuracy   REAL,
        per_class_json TEXT,
        model_dir      TEXT NOT NULL,
        created_at     TEXT NOT NULL
      );

      -- probs: little-endian float32 per class, in the teacher's class order.
      CREATE TABLE teacher_predictions (
        teacher_id  INTEGER NOT NULL REFERENCES teachers(id) ON DELETE CASCADE,
        image_id    INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        label       TEXT NOT NULL,
        confidence  REAL NOT NULL,
        probs       BLOB NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (teacher_id, image_id)
      ) WITHOUT ROWID;
      CREATE INDEX teacher_predictions_by_image ON teacher_predictions(image_id);

      CREATE TABLE minings (
        id                       INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id               INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        teacher_id               INTEGER NOT NULL REFERENCES teachers(id) ON DELETE CASCADE,
        per_class                INTEGER NOT NULL,
        min_confidence           REAL NOT NULL,
        selected                 INTEGER NOT NULL,
        per_class_selected_json  TEXT NOT NULL,
        shortfall_json           TEXT NOT NULL,
        excluded_duplicates      INTEGER NOT NULL DEFAULT 0,
        created_at               TEXT NOT NULL
      );

      CREATE TABLE mining_selections (
        mining_id   INTEGER NOT NULL REFERENCES minings(id) ON DELETE CASCADE,
        image_id    INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        label       TEXT NOT NULL,
        confidence  REAL NOT NULL,
        rank        INTEGER NOT NULL,
        PRIMARY KEY (mining_id, image_id)
      ) WITHOUT ROWID;

      CREATE TABLE runs (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        name            TEXT NOT NULL UNIQUE,
        dataset_id      INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        teacher_id      INTEGER REFERENCES teachers(id) ON DELETE SET NULL,
        method          TEXT NOT NULL,
        config_json     TEXT NOT NULL,
        classes_json    TEXT,
        status          TEXT NOT NULL CHECK (status IN ('queued','running','paused','completed','failed','cancelled')),
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
        wall_seconds    REAL
      );

      CREATE TABLE metrics (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        model   INTEGER NOT NULL DEFAULT 0,
        scope   TEXT NOT NULL CHECK (scope IN ('step','epoch')),
        step    INTEGER NOT NULL,
        epoch   REAL NOT NULL,
        name    TEXT NOT NULL,
        value   REAL NOT NULL,
        time    REAL NOT NULL
      );
      CREATE INDEX metrics_by_run ON metrics(run_id, id);

      CREATE TABLE checkpoints (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch         INTEGER NOT NULL,
        step          INTEGER NOT NULL,
        dir           TEXT NOT NULL,
        val_accuracy  REAL,
        created_at    TEXT NOT NULL
      );
      CREATE INDEX checkpoints_by_run ON checkpoints(run_id, epoch);

      -- probs: little-endian float32 per class, in the run's class order.
      CREATE TABLE run_predictions (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        model       INTEGER NOT NULL DEFAULT 0,
        image_id    INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        label       TEXT NOT NULL,
        confidence  REAL NOT NULL,
        probs       BLOB,
        PRIMARY KEY (run_id, model, image_id)
      ) WITHOUT ROWID;
      CREATE INDEX run_predictions_by_image ON run_predictions(image_id);
    `);
  },
};
