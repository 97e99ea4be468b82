// Run control across processes: the UI (services) asks, the trainer process polls between steps.
import type { Migration } from './index.js';

export const m003RunControl: Migration = {
  version: 3,
  name: 'run-control',
  up(db) {
    db.exec(`ALTER TABLE runs ADD COLUMN control TEXT CHECK (control IS NULL OR control IN ('pause','cancel'))`);
  },
};
