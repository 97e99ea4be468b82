// `distill eval MODEL --data DIR`: MODEL = run, teacher, a model path, or an export folder (run by
// the runtime its format targets: onnxruntime for ONNX, tfjs for TF.js).
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import { resolveModel } from '../../jobs/model-ref.js';
import { evaluateFolderItems, listClassFolder, scorePredictions, type EvalOutcome } from '../../engine/evaluate.js';
import { predictProbsWith } from '../../engine/predict.js';
import { isExportFolder } from '../../engine/export/export-metadata.js';
import { openExportFolder } from '../../engine/export/export-runner.js';
import { initBackend } from '../../engine/backend/select.js';

const Flags = z.object({ home: z.string().optional(), json: z.boolean().optional(), data: z.string({ message: 'is required' }) });

export const evalCommand: Command = {
  ...commandInfo('eval'),
  async run(args, out) {
    const { values, positionals } = parseFlags(args, { data: { type: 'string' } }, Flags);
    const ref = positionals[0];
    if (!ref) throw new CliError('eval needs a MODEL (run, teacher, model path or export folder)', 2);
    const report = (what: string, r: EvalOutcome, extra: Record<string, unknown> = {}) =>
      out.result(
        { accuracy: r.accuracy, n: r.n, perClass: r.perClass, confusion: r.confusion, skipped: r.skipped, ...extra },
        `${what} on ${values.data}: accuracy ${(r.accuracy * 100).toFixed(1)}% (n=${r.n}); ` +
          Object.entries(r.perClass).map(([c, a]) => `${c} ${(a * 100).toFixed(1)}%`).join(', ') +
          (r.skipped.length ? `; skipped ${r.skipped.length} unreadable file(s)` : ''),
      );
    const folder = path.resolve(ref);
    if (fs.existsSync(folder) && fs.statSync(folder).isDirectory() && isExportFolder(folder)) {
      await initBackend();
      const items = await listClassFolder(values.data);
      const opened = await openExportFolder(folder);
      try {
        const preds = await predictProbsWith(opened.runner, items);
        const { format, quantize } = opened.meta;
        report(`${format} export (${quantize}) "${path.basename(folder)}"`, scorePredictions(preds, opened.meta.classes, items), { format, quantize, msPerImage: preds.msPerImage });
      } finally {
        await opened.close();
      }
      return 0;
    }
    const store = openStore(values.home);
    // A run's student is extracted into a temporary folder: removed however the command ends.
    let release = (): void => undefined;
    try {
      await initBackend();
      const m = resolveModel(store, ref);
      release = m.release;
      const items = await listClassFolder(values.data);
      const r = await evaluateFolderItems(m, items, (done, total) =>
        out.event({ type: 'progress', phase: 'eval', done, total }, `evaluating ${done}/${total}`),
      );
      report(`${m.kind} "${m.name}"`, r);
      return 0;
    } finally {
      release();
      store.close();
    }
  },
};
