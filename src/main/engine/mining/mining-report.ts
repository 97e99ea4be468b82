// What a mining selected, in numbers a user can check: per class the count and the teacher's
// confidence range, and with a ground-truth CSV (file,label) the precision overall and per class.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export interface SelectedImage {
  path: string;
  label: string;
  confidence: number;
}

export interface ClassSelection {
  selected: number;
  minConfidence: number | null;
  maxConfidence: number | null;
}

export function selectionByClass(classes: readonly string[], selected: readonly SelectedImage[]): Record<string, ClassSelection> {
  const out: Record<string, ClassSelection> = {};
  for (const c of classes) out[c] = { selected: 0, minConfidence: null, maxConfidence: null };
  for (const s of selected) {
    const c = (out[s.label] ??= { selected: 0, minConfidence: null, maxConfidence: null });
    c.selected++;
    c.minConfidence = c.minConfidence === null ? s.confidence : Math.min(c.minConfidence, s.confidence);
    c.maxConfidence = c.maxConfidence === null ? s.confidence : Math.max(c.maxConfidence, s.confidence);
  }
  return out;
}

const TruthRow = z.object({ file: z.string().min(1), label: z.string().min(1) });

/** Reads a truth CSV with a header naming `file` and `label` columns (file: a name or a relative path). */
export function readTruthCsv(file: string): Map<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`--truth ${file}: ${(e as Error).message}`);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const fi = header.indexOf('file');
  const li = header.indexOf('label');
  if (fi < 0 || li < 0) throw new Error(`--truth ${file}: the header must name a "file" and a "label" column (found: ${lines[0] ?? 'an empty file'})`);
  const truth = new Map<string, string>();
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    const row = TruthRow.safeParse({ file: cells[fi], label: cells[li] });
    if (!row.success) throw new Error(`--truth ${file}: line ${i + 2}: expected file,label, got "${line}"`);
    truth.set(row.data.file.split(path.sep).join('/'), row.data.label);
  });
  return truth;
}

export interface Precision {
  /** Selected images found in the truth file. */
  checked: number;
  correct: number;
  precision: number | null;
}

export interface TruthReport extends Precision {
  perClass: Record<string, Precision>;
  /** Selected images the truth file does not list. */
  notInTruth: number;
}

/** The truth label of a selected image: by its path's tail (as long as the truth entry), else its file name. */
function truthOf(truth: Map<string, string>, p: string): string | undefined {
  const parts = p.split(path.sep);
  for (let k = 1; k <= parts.length; k++) {
    const hit = truth.get(parts.slice(-k).join('/'));
    if (hit !== undefined) return hit;
  }
  return undefined;
}

export function precisionAgainstTruth(classes: readonly string[], selected: readonly SelectedImage[], truth: Map<string, string>): TruthReport {
  const per: Record<string, { checked: number; correct: number }> = {};
  for (const c of classes) per[c] = { checked: 0, correct: 0 };
  let notInTruth = 0;
  for (const s of selected) {
    const t = truthOf(truth, s.path);
    if (t === undefined) {
      notInTruth++;
      continue;
    }
    const c = (per[s.label] ??= { checked: 0, correct: 0 });
    c.checked++;
    if (t === s.label) c.correct++;
  }
  const prec = (p: { checked: number; correct: number }): Precision => ({ ...p, precision: p.checked ? p.correct / p.checked : null });
  const total = Object.values(per).reduce((a, p) => ({ checked: a.checked + p.checked, correct: a.correct + p.correct }), { checked: 0, correct: 0 });
  return { ...prec(total), perClass: Object.fromEntries(Object.entries(per).map(([c, p]) => [c, prec(p)])), notInTruth };
}
