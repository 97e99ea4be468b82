// What `distill eval MODEL` and `distill export RUN` accept: a run (its best checkpoint's student),
// a teacher, or a path to a model folder / model.json.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import type { Store } from '../store/index.js';
import { extractStudent } from '../engine/train/checkpoint.js';
import { modelMetadata } from '../engine/model-io.js';

export interface ResolvedModel {
  kind: 'run' | 'teacher' | 'path';
  id: number | null;
  name: string;
  dir: string;
  inputSize: number;
  classes: string[];
  /** Removes what resolving made (a run's student, extracted into a temporary folder); safe to call twice. */
  release(): void;
}

const nothingToRelease = (): void => undefined;

export function resolveModel(store: Store, ref: string): ResolvedModel {
  const run = store.runs.getRun(ref);
  if (run) {
    const ck = store.checkpoints.bestCheckpoint(run.id) ?? store.checkpoints.lastCheckpoint(run.id);
    if (!ck) throw new Error(`run "${run.name}" has no checkpoint yet`);
    const classes = store.runs.getRunClasses(run.id);
    if (!classes) throw new Error(`run "${run.name}" has no class list`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-model-'));
    const release = (): void => fs.rmSync(dir, { recursive: true, force: true });
    try {
      extractStudent(ck.dir, 0, dir);
    } catch (err) {
      release();
      throw err;
    }
    return { kind: 'run', id: run.id, name: run.name, dir, inputSize: run.config.student.inputSize, classes, release };
  }
  const teacher = store.teachers.getTeacher(ref);
  if (teacher) {
    return { kind: 'teacher', id: teacher.id, name: teacher.name, dir: teacher.modelDir, inputSize: teacher.inputSize, classes: teacher.classes, release: nothingToRelease };
  }
  const p = path.resolve(ref);
  if (fs.existsSync(p)) {
    const dir = p.endsWith('.json') ? path.dirname(p) : p;
    const meta = modelMetadata(dir) as { classes?: unknown; inputSize?: unknown };
    if (!Array.isArray(meta.classes) || typeof meta.inputSize !== 'number') {
      throw new Error(`${p}: model.json has no Distill Studio metadata (classes, inputSize); evaluate it by importing it as a teacher`);
    }
    return { kind: 'path', id: null, name: path.basename(dir), dir, inputSize: meta.inputSize, classes: meta.classes.map(String), release: nothingToRelease };
  }
  throw new Error(`"${ref}" is neither a run, a teacher nor a model path`);
}
