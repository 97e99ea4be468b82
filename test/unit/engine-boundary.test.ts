// The engine computes and returns; only the job layer (src/main/jobs), the CLI and the services
// touch SQLite. Every engine source file is read and its imports resolved.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ENGINE = path.resolve(__dirname, '../../src/main/engine');
const FORBIDDEN = [path.resolve(__dirname, '../../src/main/store'), path.resolve(__dirname, '../../src/main/jobs'), path.resolve(__dirname, '../../src/main/services')];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.(ts|mts)$/.test(e.name) ? [p] : [];
  });
}

describe('engine boundary', () => {
  it('no engine file imports the store, the job layer, the services or better-sqlite3', () => {
    const files = sources(ENGINE);
    expect(files.length).toBeGreaterThan(50);
    const offenders: string[] = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        const bad = spec === 'better-sqlite3' || (spec.startsWith('.') && FORBIDDEN.some((d) => path.resolve(path.dirname(file), spec).startsWith(d + path.sep)));
        if (bad) offenders.push(`${path.relative(ENGINE, file)} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
