// `distill bench --recipe DIR`: the default recipe on a dataset folder (labeled/<class>/, unlabeled/,
// val/<class>/) as a user would run it, step by step through `distill` itself: index the folders; a
// teacher (--teacher MODEL.json imported, else a pretrained backbone with a head trained on the labels, else
// mobilenet_v2 trained on them); then `distill run --method ssld --no-labels` with no student named,
// so the recipe picks it for --params/--minutes. JSON lines: the teacher's val accuracy, then the
// student's val accuracy after each epoch against wall time since the start, the teacher's beside it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CliError, type Output } from '../output.js';

export interface BenchRecipeArgs {
  dir: string;
  home?: string;
  teacher?: string;
  backbone?: string;
  params: string;
  minutes: number;
  /** Epochs of the teacher's fine-tuning on the labels. */
  teacherEpochs: number;
  /** The student run's seed (default: the run's own, 0). */
  seed?: number;
  /** The run blends images (mixup), with its teacher live. */
  mixup?: boolean;
}

const Line = z.record(z.string(), z.unknown());
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../bin/distill.js');

/** Runs `distill ARGS --json --home HOME`, handing each JSON line to onLine; resolves to the last one (the result). */
function distill(home: string, args: string[], onLine: (l: Record<string, unknown>) => void = () => {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--json', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let last: Record<string, unknown> | null = null;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!text.startsWith('{')) continue;
        const parsed = Line.safeParse(JSON.parse(text));
        if (parsed.success) {
          last = parsed.data;
          onLine(parsed.data);
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && last) resolve(last);
      else reject(new CliError(`distill ${args.slice(0, 2).join(' ')} failed: ${err.trim().split('\n').pop() ?? `exit ${code}`}`));
    });
  });
}

function classesOf(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

export async function runBenchRecipe(a: BenchRecipeArgs, out: Output): Promise<number> {
  const [labeled, unlabeled, val] = ['labeled', 'unlabeled', 'val'].map((d) => path.join(a.dir, d)) as [string, string, string];
  for (const d of [labeled, val]) if (!fs.existsSync(d)) throw new CliError(`--recipe ${a.dir}: no ${path.basename(d)}/ folder (expected labeled/<class>/, unlabeled/, val/<class>/)`);
  const home = a.home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'distill-bench-recipe-'));
  const t0 = Date.now();
  const wall = () => (Date.now() - t0) / 1000;
  out.event({ type: 'info', home }, `bench recipe in ${home}`);

  await distill(home, ['dataset', 'add', 'bench', '--labeled', labeled, ...(fs.existsSync(unlabeled) ? ['--unlabeled', unlabeled] : []), '--val', val]);
  const classes = classesOf(labeled);
  let teacherHow: string;
  if (a.teacher) {
    await distill(home, ['teacher', 'import', 'bench-teacher', a.teacher, '--classes', classes.join(',')]);
    teacherHow = `imported ${a.teacher}`;
  } else {
    const { hasBundledBackbone } = await import('../../engine/models/backbones.js');
    const backbone = a.backbone ?? hasBundledBackbone();
    if (backbone) {
      // The app's strong-teacher path: the frozen pretrained backbone with a head trained on its features.
      await distill(home, ['teacher', 'train', 'bench-teacher', '--dataset', 'bench', '--backbone', backbone]);
      teacherHow = `${backbone} with a head trained on the labels`;
    } else {
      await distill(home, ['teacher', 'train', 'bench-teacher', '--dataset', 'bench', '--arch', 'mobilenet_v2', '--size', '96', '--epochs', String(Math.max(10, a.teacherEpochs))]);
      teacherHow = 'mobilenet_v2 trained on the labels';
    }
  }
  const ev = await distill(home, ['eval', 'bench-teacher', '--data', val]);
  const teacherValAccuracy = typeof ev.accuracy === 'number' ? ev.accuracy : null;
  out.event({ type: 'teacher', teacher: teacherHow, valAccuracy: teacherValAccuracy, wallSeconds: wall() }, `teacher (${teacherHow}): val ${pct(teacherValAccuracy)} at ${wall().toFixed(0)} s`);

  let recipe: Record<string, unknown> | null = null;
  // The student's minutes: the recipe's measuring, the teacher's soft labels and features, every epoch.
  const runStart = wall();
  const result = await distill(
    home,
    ['run', '--name', 'bench-student', '--dataset', 'bench', '--method', 'ssld', '--teacher', 'bench-teacher', '--no-labels', '--params', a.params, '--minutes', String(a.minutes),
      ...(a.backbone ? ['--backbone', a.backbone] : []),
      ...(a.seed !== undefined ? ['--seed', String(a.seed)] : []),
      ...(a.mixup ? ['--mixup', '--teacher-cache', 'off'] : [])],
    (l) => {
      if (l.type === 'recipe') {
        recipe = l;
        out.event(
          { type: 'recipe', student: l.student, epochs: l.epochs, teacherCache: l.teacherCache, views: l.views, feature: l.feature, hint: l.hint ?? null, expectedMinutes: l.expectedMinutes },
          `recipe: ${JSON.stringify(l.student)}, ${l.teacherCache === 'off' ? `${String(l.epochs)} epochs, the teacher live` : `${String(l.epochs)} epochs, ${String(l.views)} teacher views`}${l.hint ? ', hints' : ''}`,
        );
      }
      if (l.type === 'epoch') {
        const acc = typeof l.valAccuracy === 'number' ? l.valAccuracy : null;
        out.event({ type: 'student', epoch: l.epoch, valAccuracy: acc, teacherValAccuracy, wallSeconds: wall() }, `epoch ${String(l.epoch)}: student ${pct(acc)} (teacher ${pct(teacherValAccuracy)}) at ${wall().toFixed(0)} s`);
      }
    },
  );
  const studentAcc = typeof result.valAccuracy === 'number' ? result.valAccuracy : null;
  out.result(
    { student: recipe?.['student'] ?? null, epochs: result.epochs, valAccuracy: studentAcc, teacherValAccuracy, studentMinutes: (wall() - runStart) / 60, minutes: wall() / 60, home },
    `student ${pct(studentAcc)} vs teacher ${pct(teacherValAccuracy)}: the student's run took ${((wall() - runStart) / 60).toFixed(1)} min, ${(wall() / 60).toFixed(1)} min in all`,
  );
  return 0;
}

const pct = (v: number | null) => (v == null ? '—' : `${(v * 100).toFixed(1)}%`);
