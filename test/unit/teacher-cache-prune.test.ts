// Pruning <home>/cache/teacher-views: entries (a .bin and its .json) unused past the age limit go, then
// the least recently used go until the folder fits the byte cap; the entry in use always stays, and
// files that are not entries are left alone unless they are a crash's old temp files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pruneTeacherViews, TEACHER_VIEWS_MAX_AGE_MS, TEACHER_VIEWS_MAX_BYTES } from '../../src/main/engine/train/teacher-cache-prune.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2025, 5, 1);
let dir: string;

/** Writes a file last accessed and modified `daysAgo` before NOW. */
function file(name: string, bytes: number, daysAgo: number): void {
  const f = path.join(dir, name);
  fs.writeFileSync(f, Buffer.alloc(bytes));
  const t = new Date(NOW - daysAgo * DAY);
  fs.utimesSync(f, t, t);
}

/** A cache entry: `<key>.bin` of `bytes` bytes and a 10-byte `<key>.json`. */
function entry(key: string, bytes: number, daysAgo: number): void {
  file(`${key}.bin`, bytes, daysAgo);
  file(`${key}.json`, 10, daysAgo);
}

const left = (): string[] => fs.readdirSync(dir).sort();

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-views-prune-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('pruneTeacherViews', () => {
  it('defaults: 30 days unused, 1 GiB', () => {
    expect(TEACHER_VIEWS_MAX_AGE_MS).toBe(30 * DAY);
    expect(TEACHER_VIEWS_MAX_BYTES).toBe(1024 ** 3);
  });

  it('removes entries unused past the age limit, never the one in use, and old temp files only', () => {
    entry('aaaa', 100, 0); // in use
    entry('bbbb', 100, 31);
    entry('cccc', 100, 29);
    file('dddd.json', 10, 45); // an orphan meta: still an entry, by age
    file('.eeee.bin.0123abcd.tmp', 50, 31); // a crash's leftover
    file('.ffff.bin.4567cdef.tmp', 50, 0); // maybe another process writing now
    file('notes.txt', 5, 400); // not ours
    const removed = pruneTeacherViews(dir, { keep: 'aaaa', now: NOW });
    expect(removed.sort()).toEqual(['bbbb', 'dddd']);
    expect(left()).toEqual(['.ffff.bin.4567cdef.tmp', 'aaaa.bin', 'aaaa.json', 'cccc.bin', 'cccc.json', 'notes.txt']);
  });

  it('an entry with cached features (.f16) goes whole, and its features count toward the cap', () => {
    entry('aaaa', 100, 0);
    file('aaaa.f16', 1000, 0);
    entry('bbbb', 100, 1);
    file('bbbb.f16', 1000, 1);
    expect(pruneTeacherViews(dir, { keep: 'aaaa', now: NOW, maxBytes: 1500 })).toEqual(['bbbb']);
    expect(left()).toEqual(['aaaa.bin', 'aaaa.f16', 'aaaa.json']);
  });

  it('keeps the entry in use however old it looks', () => {
    entry('aaaa', 100, 90);
    expect(pruneTeacherViews(dir, { keep: 'aaaa', now: NOW })).toEqual([]);
    expect(left()).toEqual(['aaaa.bin', 'aaaa.json']);
  });

  it('over the byte cap, removes the least recently used first until it fits', () => {
    entry('aaaa', 300, 0); // in use: 310 bytes
    entry('bbbb', 300, 1); // 310
    entry('cccc', 300, 3); // 310
    entry('dddd', 300, 2); // 310
    // 1240 bytes in all; under 700 only the entry in use and the most recent other one fit.
    const removed = pruneTeacherViews(dir, { keep: 'aaaa', maxBytes: 700, now: NOW });
    expect(removed).toEqual(['cccc', 'dddd']);
    expect(left()).toEqual(['aaaa.bin', 'aaaa.json', 'bbbb.bin', 'bbbb.json']);
  });

  it('uses the newest of access and modification time of either file as last use', () => {
    entry('aaaa', 100, 0);
    entry('bbbb', 100, 10);
    entry('cccc', 100, 5);
    // bbbb's data was read a day ago: it is more recent than cccc.
    const t = new Date(NOW - DAY);
    fs.utimesSync(path.join(dir, 'bbbb.bin'), t, new Date(NOW - 10 * DAY));
    expect(pruneTeacherViews(dir, { keep: 'aaaa', maxBytes: 230, now: NOW })).toEqual(['cccc']);
  });

  it('keeps the entry in use even when it alone is over the cap, removing every other', () => {
    entry('aaaa', 500, 0);
    entry('bbbb', 10, 0);
    expect(pruneTeacherViews(dir, { keep: 'aaaa', maxBytes: 100, now: NOW })).toEqual(['bbbb']);
    expect(left()).toEqual(['aaaa.bin', 'aaaa.json']);
  });

  it('under both limits removes nothing; a missing folder is no error', () => {
    entry('aaaa', 100, 0);
    entry('bbbb', 100, 29);
    expect(pruneTeacherViews(dir, { keep: 'aaaa', now: NOW })).toEqual([]);
    expect(left()).toHaveLength(4);
    expect(pruneTeacherViews(path.join(dir, 'absent'), { keep: 'aaaa', now: NOW })).toEqual([]);
  });
});
