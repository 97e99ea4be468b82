// Sweeps: a grid of runs started together. Each run keeps its own row; the sweep groups them and
// remembers the base config and grid, and each run the values it was given.
import type { Migration } from './index.js';

export const m005Sweeps: Migration = {
  version: 5,
  name: 'sweeps',
  up(db) {
    db.exec(`
      CREATE TABLE sweeps (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        name              TEXT NOT NULL,
        base_config_json  TEXT NOT NULL,
        grid_json         TEXT NOT NULL,
        status            TEXT NOT NULL CHECK (status IN ('running','completed','failed','cancelled')),
        error             TEXT,
        created_at        TEXT NOT NULL,
        finished_at       TEXT
      );
      ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps(id) ON DELETE SET NULL;
      ALTER TABLE runs ADD COLUMN sweep_values_json TEXT;
      CREATE INDEX runs_by_sweep ON runs(sweep_id);
    `);
  },
};
