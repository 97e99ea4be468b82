// Exports: each measured export of a run's student (a table cell checked on the Export page, or a
// folder written for a phone), with what its runtime measured.
import type { Migration } from './index.js';

export const m006Exports: Migration = {
  version: 6,
  name: 'exports',
  up(db) {
    db.exec(`
      CREATE TABLE exports (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kind          TEXT NOT NULL CHECK (kind IN ('check','export')),
        format        TEXT NOT NULL CHECK (format IN ('tfjs','onnx','tflite')),
        quantize      TEXT NOT NULL CHECK (quantize IN ('none','float16','int8')),
        dir           TEXT,
        bytes         INTEGER NOT NULL,
        n             INTEGER NOT NULL,
        accuracy      REAL,
        agreement     REAL,
        max_abs_diff  REAL,
        ms_per_image  REAL,
        warning       TEXT,
        created_at    TEXT NOT NULL
      );
      CREATE INDEX exports_by_run ON exports(run_id, kind);
    `);
  },
};
