// `distill export RUN --format onnx|tflite|tfjs [--quantize none|float16|int8] --out DIR [--data DIR]`
// Writes the export folder, then runs the written file over labeled images (the run's val split, or
// --data) and reports its accuracy and agreement with the float TF.js student.
import path from 'node:path';
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import { resolveModel } from '../../engine/model-ref.js';
import { listClassFolder } from '../../engine/evaluate.js';
import { loadModelDir } from '../../engine/model-io.js';
import { layersPredictor } from '../../engine/predict.js';
import { initBackend } from '../../engine/backend/select.js';
import { ExportFormatFlag } from '../../engine/export/export-metadata.js';
import { exportTflite } from '../../engine/export/tflite/export-tflite.js';
import { writeExport } from '../../engine/export/export-format.js';
import { openExportFolder } from '../../engine/export/export-runner.js';
import { agreementFloor, checkExport, type ExportCheck } from '../../engine/export/check-export.js';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  format: ExportFormatFlag.default('tfjs'),
  quantize: z.enum(['none', 'float16', 'int8', 'uint8']).default('none'),
  out: z.string({ message: 'is required' }),
  data: z.string().optional(),
});

export const exportCommand: Command = {
  ...commandInfo('export'),
  async run(args, out) {
    const { values, positionals } = parseFlags(args, { format: { type: 'string' }, quantize: { type: 'string' }, out: { type: 'string' }, data: { type: 'string' } }, Flags);
    const ref = positionals[0];
    if (!ref) throw new CliError('export needs a RUN', 2);
    // "uint8" is TF.js's name for its 8-bit weights (int8 there means the same); the other formats take int8.
    const allowed: readonly string[] = values.format === 'tfjs' ? ['none', 'float16', 'int8', 'uint8'] : ['none', 'float16', 'int8'];
    if (!allowed.includes(values.quantize)) {
      throw new CliError(`--quantize ${values.quantize} does not apply to --format ${values.format} (${allowed.join(', ')})`, 2);
    }
    const quantize = values.quantize === 'uint8' ? 'int8' : values.quantize;
    const store = openStore(values.home);
    try {
      await initBackend();
      const m = resolveModel(store, ref);
      const run = m.kind === 'run' ? store.runs.getRun(m.id!) : null;
      // Labeled images to check on: --data, else the run's val split. Calibration (int8) reads
      // the run's training images, never the ones it is checked on.
      const val = values.data
        ? await listClassFolder(values.data)
        : run
          ? store.images.listImages(run.datasetId, { role: 'val' }).filter((i) => i.label !== null).map((i) => ({ key: i.hash, path: i.path, label: i.label! }))
          : [];
      const calibration = run
        ? [...store.images.listImages(run.datasetId, { role: 'labeled' }), ...store.images.listImages(run.datasetId, { role: 'unlabeled' })].map((i) => ({ key: i.hash, path: i.path }))
        : val;
      if (quantize === 'int8' && values.format !== 'tfjs' && calibration.length === 0) {
        throw new CliError('int8 needs calibration images: export a run (its training images are used) or pass --data DIR');
      }
      if (values.format === 'tflite') {
        // The TFLite path writes and checks in one step (LiteRT over the val images).
        const r = await exportTflite(
          { dir: m.dir, inputSize: m.inputSize, classes: m.classes, name: m.name, valAccuracy: run?.bestValAccuracy ?? null },
          path.resolve(values.out), quantize,
          { calibration: calibration.map((c) => ({ ...c, label: null })), val },
          (stage) => out.event({ type: 'progress', stage }, stage),
        );
        if (r.warning) process.stderr.write(`distill: warning: ${r.warning}\n`);
        out.result(r, `exported ${m.kind} "${m.name}" as tflite (${quantize}) to ${values.out} (${(r.bytes / 1024).toFixed(0)} KiB); LiteRT on ${r.n} images: agreement ${(r.agreement * 100).toFixed(1)}%, ${r.msPerImage.toFixed(2)} ms/image` + (r.warning ? `\nWARNING: ${r.warning}` : ''));
        return 0;
      }
      out.event({ type: 'export', stage: 'write', format: values.format, quantize }, `writing ${values.format} (${values.quantize})…`);
      const written = await writeExport(
        { dir: m.dir, inputSize: m.inputSize, classes: m.classes, name: m.name, valAccuracy: run?.bestValAccuracy ?? null },
        path.resolve(values.out),
        values.format,
        quantize,
        calibration,
      );
      let check: ExportCheck | null = null;
      let warning: string | null = null;
      if (val.length === 0) {
        warning = 'not checked: no labeled images (the run has no val split; pass --data DIR)';
      } else {
        out.event({ type: 'export', stage: 'check', images: val.length }, `checking on ${val.length} labeled images…`);
        const opened = await openExportFolder(written.dir);
        const student = await loadModelDir(m.dir);
        try {
          check = await checkExport(opened.runner, layersPredictor(student, m.inputSize), m.classes, val);
        } finally {
          student.dispose();
          await opened.close();
        }
        const floor = agreementFloor(quantize);
        if (check.agreement < floor) {
          warning = `top-1 agreement with the float student is ${(check.agreement * 100).toFixed(1)}%, below ${(floor * 100).toFixed(1)}% for ${quantize}`;
        }
      }
      if (warning) process.stderr.write(`distill: warning: ${warning}\n`);
      const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
      out.result(
        {
          dir: written.dir, files: written.files, bytes: written.bytes, format: written.format, quantize: written.quantize,
          n: check?.n ?? 0, accuracy: check?.accuracy ?? null, agreement: check?.agreement ?? null,
          maxAbsDiff: check?.maxAbsDiff ?? null, msPerImage: check?.msPerImage ?? null, warning,
        },
        `exported ${m.kind} "${m.name}" as ${written.format} (${written.quantize}) to ${values.out}: ${written.files.map((f) => path.basename(f)).join(', ')} (${(written.bytes / 1024).toFixed(0)} KiB)` +
          (check ? `; on ${check.n} images: accuracy ${pct(check.accuracy)}, agreement ${pct(check.agreement)}, max |Δp| ${check.maxAbsDiff.toExponential(2)}, ${check.msPerImage.toFixed(2)} ms/image` : '') +
          (warning ? `\nWARNING: ${warning}` : ''),
      );
      return 0;
    } finally {
      store.close();
    }
  },
};
