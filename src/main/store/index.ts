// The Store facade: one open database under a home folder, with each table group's functions bound
// to it (store.datasets.get(...), store.runs.update(...)). The modules stay usable with a bare Db.
import fs from 'node:fs';
import path from 'node:path';
import { DB_FILE, openDb, resolveHome, type Db, type OpenOptions } from './db.js';
import * as datasets from './datasets.js';
import * as images from './images.js';
import * as teachers from './teachers.js';
import * as minings from './minings.js';
import * as runs from './runs.js';
import * as runPredictions from './run-predictions.js';
import * as metrics from './metrics.js';
import * as checkpoints from './checkpoints.js';
import * as browse from './browse.js';
import * as runControl from './run-control.js';
import * as sweeps from './sweeps.js';
import * as exports from './exports.js';

type AnyFn = (db: Db, ...args: never[]) => unknown;
/** A module's functions that take the db first, with the db bound. */
export type Bound<M> = {
  [K in keyof M as M[K] extends AnyFn ? K : never]: M[K] extends (db: Db, ...args: infer A) => infer R ? (...args: A) => R : never;
};

function bind<M extends object>(db: Db, mod: M): Bound<M> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(mod)) {
    if (typeof v === 'function') out[k] = (...args: unknown[]) => (v as (db: Db, ...a: unknown[]) => unknown)(db, ...args);
  }
  return out as Bound<M>;
}

export class Store {
  readonly datasets: Bound<typeof datasets>;
  readonly images: Bound<typeof images>;
  readonly teachers: Bound<typeof teachers>;
  readonly minings: Bound<typeof minings>;
  readonly runs: Bound<typeof runs>;
  readonly runPredictions: Bound<typeof runPredictions>;
  readonly metrics: Bound<typeof metrics>;
  readonly checkpoints: Bound<typeof checkpoints>;
  readonly browse: Bound<typeof browse>;
  readonly runControl: Bound<typeof runControl>;
  readonly sweeps: Bound<typeof sweeps>;
  readonly exports: Bound<typeof exports>;

  private constructor(
    readonly db: Db,
    /** Absolute home folder: distill.db, thumbs/, models/ … live here. */
    readonly home: string,
  ) {
    this.datasets = bind(db, datasets);
    this.images = bind(db, images);
    this.teachers = bind(db, teachers);
    this.minings = bind(db, minings);
    this.runs = bind(db, runs);
    this.runPredictions = bind(db, runPredictions);
    this.metrics = bind(db, metrics);
    this.checkpoints = bind(db, checkpoints);
    this.browse = bind(db, browse);
    this.runControl = bind(db, runControl);
    this.sweeps = bind(db, sweeps);
    this.exports = bind(db, exports);
  }

  /** Opens <home>/distill.db (home resolved as resolveHome does), creating and migrating it as needed. */
  static open(home?: string, opts: OpenOptions = {}): Store {
    const dir = resolveHome(home);
    fs.mkdirSync(dir, { recursive: true });
    return new Store(openDb(path.join(dir, DB_FILE), opts), dir);
  }

  /** Thumbnail cache folder. */
  get thumbsDir(): string {
    return path.join(this.home, 'thumbs');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export { resolveHome, openDb, migrate, writeTx, userVersion, SCHEMA_VERSION, DB_FILE, type Db } from './db.js';
export { NotFoundError, findId, requireId, type IdOrName } from './lookup.js';
export { encodeProbs, decodeProbs, argmax } from './probs.js';
export { datasets, images, teachers, minings, runs, runPredictions, metrics, checkpoints, browse, runControl, sweeps, exports };
