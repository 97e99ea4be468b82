// `distill export RUN --format onnx|tflite|tfjs [--quantize none|float16|int8] --out DIR [--data DIR]`
// Writes the export folder, then runs the written file over labeled images (the run's val split, or
// --data) and reports its accuracy and agreement with the float TF.js student.
// `distill export RUN --all [--data DIR]` measures every format × quantization the same way in scratch
// folders (removed after) and reports the table the Export page shows. A run's exports and checks are
// stored with what was measured.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { EXPORT_FORMATS, EXPORT_QUANTIZATIONS, type ExportKind, type ExportMeasure } from '../../../shared/export-record.js';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { CliError, type Output } from '../output.js';
import { openStore } from '../open-store.js';
import type { Store } from '../../store/index.js';
import { resolveModel, type ResolvedModel } from '../../jobs/model-ref.js';
import { listClassFolder } from '../../engine/evaluate.js';
import { initBackend } from '../../engine/backend/select.js';
import { ExportFormatFlag, type ExportQuantize } from '../../engine/export/export-metadata.js';
import type { ExportFormat } from '../../engine/export/export-folder.js';
import type { PredictItem } from '../../engine/predict.js';
import { exportAndCheck, studentReference } from '../../engine/export/export-and-check.js';

const Flags = z
  .object({
    home: z.string().optional(),
    json: z.boolean().optional(),
    format: ExportFormatFlag.default('tfjs'),
    quantize: z.enum(['none', 'float16', 'int8', 'uint8']).default('none'),
    out: z.string().optional(),
    data: z.string().optional(),
    all: z.boolean().optional(),
  })
  .refine((v) => v.all || v.out, { message: 'is required (or --all to measure every format × quantization)', path: ['out'] });

interface Images {
  calibration: PredictItem[];
  val: (PredictItem & { label: string })[];
}

const pct = (v: number | null) => (v == null ? '—' : `${(v * 100).toFixed(1)}%`);

function humanMeasure(m: ExportMeasure): string {
  return m.n === 0
    ? 'not checked'
    : `on ${m.n} images: accuracy ${pct(m.accuracy)}, agreement ${pct(m.agreement)}, max |Δp| ${m.maxAbsDiff?.toExponential(2) ?? '—'}, ${m.msPerImage?.toFixed(2) ?? '—'} ms/image`;
}

/** Labeled images to check on (--data, else the run's val split) and training images for int8 calibration. */
async function imagesFor(store: Store, m: ResolvedModel, data: string | undefined): Promise<Images> {
  const run = m.kind === 'run' ? store.runs.getRun(m.id!) : null;
  const val = data
    ? await listClassFolder(data)
    : run
      ? store.images.listImages(run.datasetId, { role: 'val' }).filter((i) => i.label !== null).map((i) => ({ key: i.hash, path: i.path, label: i.label! }))
      : [];
  // Calibration never reads the images the file is checked on.
  const calibration = run
    ? [...store.images.listImages(run.datasetId, { role: 'labeled' }), ...store.images.listImages(run.datasetId, { role: 'unlabeled' })].map((i) => ({ key: i.hash, path: i.path }))
    : val;
  return { calibration, val };
}

function record(store: Store, m: ResolvedModel, kind: ExportKind, format: ExportFormat, quantize: ExportQuantize, dir: string | null, measure: ExportMeasure): number | null {
  if (m.kind !== 'run') return null;
  return store.exports.addExport({ runId: m.id!, kind, format, quantize, dir, ...measure }).id;
}

async function exportAll(store: Store, m: ResolvedModel, images: Images, out: Output): Promise<void> {
  const src = { dir: m.dir, inputSize: m.inputSize, classes: m.classes, name: m.name, valAccuracy: m.kind === 'run' ? (store.runs.getRun(m.id!)?.bestValAccuracy ?? null) : null };
  const cells = EXPORT_FORMATS.flatMap((format) => EXPORT_QUANTIZATIONS.map((quantize) => ({ format, quantize })));
  const rows: ({ format: ExportFormat; quantize: ExportQuantize; id: number | null } & ExportMeasure)[] = [];
  const failures: string[] = [];
  // The float student's predictions on the val images, once for all nine files.
  const checked = { ...images, ...(images.val.length && { reference: await studentReference(src, images.val) }) };
  for (const [i, { format, quantize }] of cells.entries()) {
    out.event({ type: 'progress', phase: 'export-check', done: i, total: cells.length, message: `${format} ${quantize}` }, `checking ${format} (${quantize})…`);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-export-check-'));
    try {
      const { measure } = await exportAndCheck(src, scratch, format, quantize, checked);
      rows.push({ format, quantize, id: record(store, m, 'check', format, quantize, null, measure), ...measure });
      out.event({ type: 'check', format, quantize, ...measure }, `${format} ${quantize}: ${(measure.bytes / 1024).toFixed(0)} KiB, ${humanMeasure(measure)}` + (measure.warning ? ` — WARNING: ${measure.warning}` : ''));
    } catch (err) {
      // One format that cannot take this model (an unknown layer, say) leaves the others measured.
      failures.push(`${format} ${quantize}: ${err instanceof Error ? err.message : String(err)}`);
      out.event({ type: 'check-failed', format, quantize, error: failures.at(-1) }, `${format} ${quantize}: FAILED — ${failures.at(-1)}`);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  out.event({ type: 'progress', phase: 'export-check', done: cells.length, total: cells.length, message: 'done' });
  out.result({ model: m.name, run: m.kind === 'run' ? m.id : null, checks: rows, failures }, `${rows.length} of ${cells.length} exports of ${m.kind} "${m.name}" measured` + (failures.length ? `; ${failures.length} failed` : ''));
  if (rows.length === 0) throw new CliError(`no export of "${m.name}" could be written: ${failures[0]}`);
}

export const exportCommand: Command = {
  ...commandInfo('export'),
  async run(args, out) {
    const { values, positionals } = parseFlags(
      args,
      { format: { type: 'string' }, quantize: { type: 'string' }, out: { type: 'string' }, data: { type: 'string' }, all: { type: 'boolean' } },
      Flags,
    );
    const ref = positionals[0];
    if (!ref) throw new CliError('export needs a RUN', 2);
    // "uint8" is TF.js's name for its 8-bit weights (int8 there means the same); the other formats take int8.
    const allowed: readonly string[] = values.format === 'tfjs' ? ['none', 'float16', 'int8', 'uint8'] : ['none', 'float16', 'int8'];
    if (!allowed.includes(values.quantize)) {
      throw new CliError(`--quantize ${values.quantize} does not apply to --format ${values.format} (${allowed.join(', ')})`, 2);
    }
    const quantize: ExportQuantize = values.quantize === 'uint8' ? 'int8' : values.quantize;
    const store = openStore(values.home);
    // A run's student is extracted into a temporary folder: removed however the command ends.
    let release = (): void => undefined;
    try {
      await initBackend();
      const m = resolveModel(store, ref);
      release = m.release;
      const images = await imagesFor(store, m, values.data);
      if (values.all) {
        await exportAll(store, m, images, out);
        return 0;
      }
      if (quantize === 'int8' && values.format !== 'tfjs' && images.calibration.length === 0) {
        throw new CliError('int8 needs calibration images: export a run (its training images are used) or pass --data DIR');
      }
      const src = { dir: m.dir, inputSize: m.inputSize, classes: m.classes, name: m.name, valAccuracy: m.kind === 'run' ? (store.runs.getRun(m.id!)?.bestValAccuracy ?? null) : null };
      const { written, measure } = await exportAndCheck(src, values.out!, values.format, quantize, images, (stage) =>
        out.event(
          { type: 'export', stage, format: values.format, quantize, ...(stage === 'check' ? { images: images.val.length } : {}) },
          stage === 'write' ? `writing ${values.format} (${values.quantize})…` : `checking on ${images.val.length} labeled images…`,
        ),
      );
      const id = record(store, m, 'export', written.format, written.quantize, written.dir, measure);
      if (measure.warning) process.stderr.write(`distill: warning: ${measure.warning}\n`);
      out.result(
        { id, dir: written.dir, files: written.files, format: written.format, quantize: written.quantize, ...measure },
        `exported ${m.kind} "${m.name}" as ${written.format} (${written.quantize}) to ${values.out}: ${written.files.map((f) => path.basename(f)).join(', ')} (${(written.bytes / 1024).toFixed(0)} KiB); ${humanMeasure(measure)}` +
          (measure.warning ? `\nWARNING: ${measure.warning}` : ''),
      );
      return 0;
    } finally {
      release();
      store.close();
    }
  },
};
