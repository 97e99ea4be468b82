// CLI contract: datasets, teachers and runs are named "by their id or their name, interchangeably".
import type { Db } from './db.js';

export type IdOrName = number | string;

type NamedTable = 'datasets' | 'teachers' | 'runs';

/**
 * A number is an id. A string is tried as a name first (so a dataset literally named "7" still
 * resolves), then as a decimal id.
 */
export function findId(db: Db, table: NamedTable, ref: IdOrName): number | null {
  if (typeof ref === 'number') {
    const row = db.prepare(`SELECT id FROM ${table} WHERE id = ?`).get(ref) as { id: number } | undefined;
    return row?.id ?? null;
  }
  const byName = db.prepare(`SELECT id FROM ${table} WHERE name = ?`).get(ref) as { id: number } | undefined;
  if (byName) return byName.id;
  if (/^\d+$/.test(ref.trim())) return findId(db, table, Number(ref.trim()));
  return null;
}

const NOUN: Record<NamedTable, string> = { datasets: 'dataset', teachers: 'teacher', runs: 'run' };

export class NotFoundError extends Error {
  constructor(
    readonly kind: string,
    readonly ref: IdOrName,
  ) {
    super(`${kind} "${ref}" not found`);
    this.name = 'NotFoundError';
  }
}

export function requireId(db: Db, table: NamedTable, ref: IdOrName): number {
  const id = findId(db, table, ref);
  if (id === null) throw new NotFoundError(NOUN[table], ref);
  return id;
}
