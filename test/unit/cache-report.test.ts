// `distill doctor`'s cache lines: the bytes and files each on-disk cache holds now, and each bound.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheReport } from '../../src/main/engine/cache-report.js';
import { DEFAULT_DECODED_STORE_BYTES } from '../../src/main/engine/data/decoded-store.js';
import { TEACHER_VIEWS_MAX_BYTES } from '../../src/main/engine/train/teacher-cache-prune.js';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-cache-report-'));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('cache report', () => {
  it('counts what each cache folder holds (nested folders too) and states its bound; a missing folder is empty', () => {
    expect(cacheReport(home).map((c) => [c.name, c.bytes, c.files])).toEqual([
      ['decoded images (memory)', null, null],
      ['decoded images (disk)', 0, 0],
      ['teacher soft labels', 0, 0],
    ]);
    fs.mkdirSync(path.join(home, 'cache', 'decoded', 'ab'), { recursive: true });
    fs.writeFileSync(path.join(home, 'cache', 'decoded', 'ab', 'x.u8'), Buffer.alloc(1000));
    fs.writeFileSync(path.join(home, 'cache', 'decoded', 'y.u8'), Buffer.alloc(24));
    fs.mkdirSync(path.join(home, 'cache', 'teacher-views'), { recursive: true });
    fs.writeFileSync(path.join(home, 'cache', 'teacher-views', 'a.bin'), Buffer.alloc(64));
    const r = cacheReport(home);
    expect(r[1]).toMatchObject({ bytes: 1024, files: 2, boundBytes: DEFAULT_DECODED_STORE_BYTES });
    expect(r[2]).toMatchObject({ bytes: 64, files: 1, boundBytes: TEACHER_VIEWS_MAX_BYTES });
  });
});
