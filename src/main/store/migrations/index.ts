// Numbered schema migrations. Append only: a released migration is never edited.
import type Database from 'better-sqlite3';
import { m001Init } from './001_init.js';
import { m002Indexes } from './002_indexes.js';
import { m003RunControl } from './003_run_control.js';
import { m004RunLiveness } from './004_run_liveness.js';
import { m005Sweeps } from './005_sweeps.js';
import { m006Exports } from './006_exports.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
  /** Table rebuilds: foreign keys are switched off around the migration and checked before it commits. */
  foreignKeysOff?: boolean;
}

export const MIGRATIONS: readonly Migration[] = [m001Init, m002Indexes, m003RunControl, m004RunLiveness, m005Sweeps, m006Exports];
