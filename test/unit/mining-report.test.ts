// The mining report: per class the count and confidence range of the selection, and against a truth
// CSV (file,label, as the catdog set's unlabeled-truth.csv) the precision overall and per class,
// counted by hand here; a malformed truth file is refused naming the file and the problem.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { precisionAgainstTruth, readTruthCsv, selectionByClass } from '../../src/main/engine/mining/mining-report.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-mining-report-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const pool = '/data/pets/unlabeled';
const selected = [
  { path: `${pool}/u1.jpg`, label: 'cat', confidence: 0.91 },
  { path: `${pool}/u2.jpg`, label: 'cat', confidence: 0.99 },
  { path: `${pool}/u3.jpg`, label: 'cat', confidence: 0.95 },
  { path: `${pool}/u4.jpg`, label: 'dog', confidence: 0.8 },
  { path: `${pool}/sub/u5.jpg`, label: 'dog', confidence: 0.97 },
  { path: `${pool}/u6.jpg`, label: 'dog', confidence: 0.85 },
];

describe('mining report', () => {
  it('per class: how many were selected and their confidence range; a class with none says so', () => {
    expect(selectionByClass(['cat', 'dog', 'bird'], selected)).toEqual({
      cat: { selected: 3, minConfidence: 0.91, maxConfidence: 0.99 },
      dog: { selected: 3, minConfidence: 0.8, maxConfidence: 0.97 },
      bird: { selected: 0, minConfidence: null, maxConfidence: null },
    });
  });

  it('precision against a truth CSV, overall and per class, matching by file name or relative path', () => {
    const file = path.join(tmp, 'truth.csv');
    // u2 is a dog, u6 a cat; u5 listed by its relative path; u4 missing from the file.
    fs.writeFileSync(file, 'file,label\nu1.jpg,cat\nu2.jpg,dog\nu3.jpg,cat\nsub/u5.jpg,dog\nu6.jpg,cat\nu9.jpg,dog\n');
    const truth = readTruthCsv(file);
    const r = precisionAgainstTruth(['cat', 'dog'], selected, truth);
    expect(r.perClass.cat).toEqual({ checked: 3, correct: 2, precision: 2 / 3 });
    expect(r.perClass.dog).toEqual({ checked: 2, correct: 1, precision: 1 / 2 });
    expect(r).toMatchObject({ checked: 5, correct: 3, precision: 3 / 5, notInTruth: 1 });
  });

  it('reads the header by name (columns in any order, CRLF) and refuses a file without file/label columns', () => {
    const ok = path.join(tmp, 'swapped.csv');
    fs.writeFileSync(ok, 'label,file\r\ncat,u1.jpg\r\n');
    expect([...readTruthCsv(ok)]).toEqual([['u1.jpg', 'cat']]);
    const bad = path.join(tmp, 'bad.csv');
    fs.writeFileSync(bad, 'name,class\nu1.jpg,cat\n');
    expect(() => readTruthCsv(bad)).toThrow(`--truth ${bad}: the header must name a "file" and a "label" column`);
    const short = path.join(tmp, 'short.csv');
    fs.writeFileSync(short, 'file,label\nu1.jpg\n');
    expect(() => readTruthCsv(short)).toThrow(/line 2: expected file,label/);
    expect(() => readTruthCsv(path.join(tmp, 'none.csv'))).toThrow(/none\.csv: ENOENT/);
  });
});
