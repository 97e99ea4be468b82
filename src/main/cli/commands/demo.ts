// `distill demo`: the whole job on a built-in synthetic two-class set (circles vs. squares):
// import → teacher → mine → SSLD without labels → eval → export, with a short report. The images and
// the export stay under the home (demo-data/, demo-export/), so `distill serve --home …` can show them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { intArg, parseFlags } from '../command.js';
import { Store } from '../../store/index.js';
import { makeSyntheticDataset } from '../../demo/synthetic-dataset.js';
import { importDataset } from '../../datasets/import.js';
import { trainTeacher } from '../../jobs/teacher-train.js';
import { mine } from '../../jobs/mine.js';
import { RunConfig } from '../../../shared/run-config.js';
import { executeRun } from '../../jobs/run-job.js';
import { evaluateFolderItems, listClassFolder } from '../../engine/evaluate.js';
import { resolveModel } from '../../jobs/model-ref.js';
import { exportAndCheck } from '../../engine/export/export-and-check.js';
import { initBackend } from '../../engine/backend/select.js';
import type { Output } from '../output.js';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  size: intArg().pipe(z.number().int().min(32).max(224)).default(48),
  epochs: intArg().pipe(z.number().int().min(1)).default(6),
});

function miningPrecision(store: Store, miningId: number, truthCsv: string): { precision: number; perClass: Record<string, number> } {
  const truth = new Map(
    fs.readFileSync(truthCsv, 'utf8').trim().split('\n').slice(1).map((l) => {
      const [f, c] = l.split(',');
      return [f!, c!] as const;
    }),
  );
  const sel = store.minings.getMiningSelections(miningId);
  const hit: Record<string, { ok: number; n: number }> = {};
  for (const s of sel) {
    const img = store.images.getImage(s.imageId)!;
    const h = (hit[s.label] ??= { ok: 0, n: 0 });
    h.n++;
    if (truth.get(path.basename(img.path)) === s.label) h.ok++;
  }
  const total = Object.values(hit).reduce((a, h) => ({ ok: a.ok + h.ok, n: a.n + h.n }), { ok: 0, n: 0 });
  return { precision: total.n ? total.ok / total.n : 0, perClass: Object.fromEntries(Object.entries(hit).map(([c, h]) => [c, h.ok / h.n])) };
}

export async function runDemo(out: Output, o: { home?: string; size: number; epochs: number }): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  const home = o.home ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'distill-demo-')), 'home');
  // One folder per demo, beside the store that indexes it: the dataset's images must outlive the demo.
  const stamp = Date.now().toString(36);
  const work = path.join(home, 'demo', stamp);
  const step = (msg: string) => out.event({ type: 'info', message: msg }, `▸ ${msg}`);
  const events = {
    progress: (done: number, total: number, message: string) =>
      out.event({ type: 'progress', phase: 'train', done, total, message }, `  ${message}: step ${done}/${total}`),
    info: (message: string) => out.event({ type: 'info', message }, `  ${message}`),
  };
  const backend = await initBackend();
  step(`backend ${backend.active} (${backend.threads} thread(s)); working in ${work}`);
  step('drawing a synthetic two-class set (circles vs. squares)');
  const layout = await makeSyntheticDataset({ dir: path.join(work, 'data'), labeledPerClass: 30, unlabeled: 400, valPerClass: 60, size: 96, seed: 11 });
  const store = Store.open(home);
  try {
    step('importing the folders');
    const imported = await importDataset(store, {
      name: `demo-${stamp}`,
      folders: [
        { path: layout.labeled, role: 'labeled' },
        { path: layout.unlabeled, role: 'unlabeled' },
        { path: layout.val, role: 'val' },
      ],
    });
    const ds = imported.dataset;
    step(`training a teacher (mobilenet_v2 ×0.5, ${o.size}px, ${o.epochs + 4} epochs) on ${Object.values(imported.labeled).reduce((a, b) => a + b, 0)} labeled images`);
    const teacherName = `demo-teacher-${ds.id}`;
    const teacher = await trainTeacher(store, { name: teacherName, dataset: ds.id, arch: 'mobilenet_v2_050', size: o.size, epochs: o.epochs + 4, batchSize: 16, lr: 0.003, seed: 1 }, events);
    step('mining the unlabeled pool (top 120 per class)');
    const mined = await mine(store, { dataset: ds.id, teacher: teacher.id, perClass: 120, minConfidence: 0 });
    const precision = miningPrecision(store, mined.mining.id, layout.truthCsv);
    // Distillation students want a longer schedule than their teacher (SSLD trains them several times
    // longer); twice the teacher's epochs keeps the demo around a minute on 2 cores.
    const studentEpochs = 2 * (o.epochs + 4);
    step(`SSLD run on the mined images + the labeled ones (mobilenet_v2 ×0.35, ${o.size}px, ${studentEpochs} epochs)`);
    const config = RunConfig.parse({
      name: `demo-ssld-${ds.id}`,
      dataset: String(ds.id),
      method: 'ssld',
      teacher: teacherName,
      student: { arch: 'mobilenet_v2', width: 0.35, inputSize: o.size },
      // The SSLD recipe: soft labels on the mined images, CE on the few labeled ones.
      data: { useLabels: true, useUnlabeled: true, mining: { perClass: 120 } },
      optim: { lr: 0.005, warmupEpochs: 1 },
      epochs: studentEpochs,
      batchSize: 32,
      seed: 2,
    });
    const run = store.runs.createRun({ config, datasetId: ds.id, teacherId: teacher.id });
    const outcome = await executeRun(store, run.id, { events });
    step('evaluating the student on the val folder');
    const model = resolveModel(store, String(run.id));
    const { ev, exp } = await (async () => {
      try {
        const val = await listClassFolder(layout.val);
        const ev = await evaluateFolderItems(model, val);
        step('exporting the student (TF.js, uint8 weights) and checking it on the val images');
        const src = { dir: model.dir, inputSize: model.inputSize, classes: model.classes, name: model.name, valAccuracy: ev.accuracy };
        const { measure } = await exportAndCheck(src, path.join(work, 'export'), 'tfjs', 'int8', { calibration: [], val });
        return { ev, exp: measure };
      } finally {
        model.release();
      }
    })();
    const summary = {
      dataset: ds.id,
      teacher: { id: teacher.id, valAccuracy: teacher.valAccuracy },
      mining: { id: mined.mining.id, selected: mined.mining.selected, precision: precision.precision, perClassPrecision: precision.perClass },
      run: { id: run.id, valAccuracy: ev.accuracy, imgPerSec: outcome.imgPerSec, backend: backend.active, threads: backend.threads },
      export: { dir: path.join(work, 'export'), bytes: exp.bytes, checkedImages: exp.n, agreement: exp.agreement, maxAbsDiff: exp.maxAbsDiff, warning: exp.warning ?? null },
      home,
      seconds: Math.round((Date.now() - t0) / 1000),
    };
    return summary;
  } finally {
    store.close();
  }
}

const pct = (v: number | null | undefined) => (v == null ? '—' : (v * 100).toFixed(1) + '%');

export const demoCommand: Command = {
  ...commandInfo('demo'),
  async run(args, out) {
    const { values } = parseFlags(args, { size: { type: 'string' }, epochs: { type: 'string' } }, Flags);
    const s = (await runDemo(out, values)) as {
      teacher: { valAccuracy: number | null };
      mining: { selected: number; precision: number };
      run: { valAccuracy: number; imgPerSec: number | null; backend: string; threads: number };
      export: { dir: string; bytes: number; checkedImages: number; agreement: number | null; maxAbsDiff: number | null; warning: string | null };
      home: string;
      seconds: number;
    };
    out.result(
      s,
      [
        '',
        'Distill Studio demo — report',
        `  teacher (mobilenet_v2 ×0.5, 30 labeled/class): val accuracy ${pct(s.teacher.valAccuracy)}`,
        `  mining (teacher's top-120 per class):      ${s.mining.selected} images, precision ${pct(s.mining.precision)}`,
        `  student (SSLD: mined soft labels + labels): val accuracy ${pct(s.run.valAccuracy)}  (chance 50%)`,
        `  training speed:                            ${s.run.imgPerSec?.toFixed(1) ?? '—'} img/s on ${s.run.backend} (${s.run.threads} thread(s))`,
        `  export (TF.js, uint8):                     ${(s.export.bytes / 1024).toFixed(0)} KiB, same class as the float student on ${pct(s.export.agreement)} of ${s.export.checkedImages} val images (max |Δp| ${s.export.maxAbsDiff?.toExponential(2) ?? '—'}) → ${s.export.dir}`,
        ...(s.export.warning ? [`    WARNING: ${s.export.warning}`] : []),
        `  store: ${s.home} (browse it: npx distill serve --home ${s.home})`,
        `  took ${s.seconds} s`,
      ].join('\n'),
    );
    return 0;
  },
};
