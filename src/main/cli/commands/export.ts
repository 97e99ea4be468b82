// `distill export RUN --format tfjs|onnx|tflite [--quantize none|float16|uint8|int8] --out DIR`
// One command, a writer per format. tflite is checked by its real runtime (LiteRT) on the run's val
// images: {files, bytes, accuracy, agreement, maxAbsDiff, msPerImage}, with a warning (result field
// and a stderr line) when the file disagrees with the float student more than its quantization should.
import path from 'node:path';
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import type { Store } from '../../store/index.js';
import { resolveModel, type ResolvedModel } from '../../engine/model-ref.js';
import { exportTfjs } from '../../engine/export/export-model.js';
import { exportTflite, type ImageItem } from '../../engine/export/tflite/export-tflite.js';
import { initBackend } from '../../engine/backend/select.js';

const QUANTIZE_BY_FORMAT = {
  tfjs: ['none', 'float16', 'uint8'],
  tflite: ['none', 'float16', 'int8'],
  onnx: [],
} as const;

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  format: z.enum(['tfjs', 'onnx', 'tflite']).default('tfjs'),
  quantize: z.enum(['none', 'float16', 'uint8', 'int8']).default('none'),
  out: z.string({ message: 'is required' }),
});

/** The dataset images of the model's run or teacher: training images calibrate int8, val images check. */
function datasetImages(store: Store, m: ResolvedModel): { calibration: ImageItem[]; val: ImageItem[]; valAccuracy: number | null } {
  let datasetId: number | null = null;
  let valAccuracy: number | null = null;
  if (m.kind === 'run') {
    const run = store.runs.getRun(m.id!)!;
    datasetId = run.datasetId;
    valAccuracy = run.bestValAccuracy ?? null;
  } else if (m.kind === 'teacher') {
    const t = store.teachers.getTeacher(m.id!)!;
    datasetId = t.datasetId;
    valAccuracy = t.valAccuracy;
  }
  if (datasetId === null) return { calibration: [], val: [], valAccuracy };
  const items = (role: 'labeled' | 'val' | 'unlabeled'): ImageItem[] =>
    store.images.listImages(datasetId, { role }).map((i) => ({ key: String(i.id), path: i.path, label: i.label }));
  const labeled = items('labeled');
  // A few hundred images: the labeled split, topped up from the unlabeled pool when it is small.
  const calibration = labeled.length >= 200 ? labeled : [...labeled, ...items('unlabeled').slice(0, 200 - labeled.length)];
  return { calibration, val: items('val'), valAccuracy };
}

export const exportCommand: Command = {
  ...commandInfo('export'),
  async run(args, out) {
    const { values, positionals } = parseFlags(args, { format: { type: 'string' }, quantize: { type: 'string' }, out: { type: 'string' } }, Flags);
    const ref = positionals[0];
    if (!ref) throw new CliError('export needs a RUN', 2);
    const allowed: readonly string[] = QUANTIZE_BY_FORMAT[values.format];
    if (values.format === 'onnx') {
      throw new CliError('--format onnx is not available yet: export --format tflite or tfjs');
    }
    if (!allowed.includes(values.quantize)) {
      throw new CliError(`--quantize ${values.quantize} does not apply to --format ${values.format} (${allowed.join(', ')})`, 2);
    }
    const store = openStore(values.home);
    try {
      await initBackend();
      const m = resolveModel(store, ref);
      const outDir = path.resolve(values.out);
      if (values.format === 'tflite') {
        const data = datasetImages(store, m);
        const quantize = values.quantize as 'none' | 'float16' | 'int8';
        if (quantize === 'int8' && data.calibration.length === 0) {
          throw new CliError(`int8 needs calibration images: "${m.name}" has no dataset with training images (export a run or a trained teacher, or use --quantize none|float16)`);
        }
        const r = await exportTflite(
          { dir: m.dir, inputSize: m.inputSize, classes: m.classes, name: m.name, valAccuracy: data.valAccuracy },
          outDir, quantize, data,
          (stage) => out.event({ type: 'progress', stage }, stage),
        );
        if (r.warning) process.stderr.write(`distill: warning: ${r.warning}\n`);
        const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
        out.result(
          r,
          `exported ${m.kind} "${m.name}" to ${values.out}: model.tflite (${quantize}, ${(r.bytes / 1024).toFixed(0)} KiB in all); ` +
            `LiteRT on ${r.n} ${data.val.length ? 'val' : 'random'} images: accuracy ${pct(r.accuracy)}, agreement with the float student ${pct(r.agreement)}, ` +
            `max |diff| ${r.maxAbsDiff.toExponential(2)}, ${r.msPerImage.toFixed(2)} ms/image`,
        );
        return 0;
      }
      const r = await exportTfjs(m, outDir, values.quantize as 'none' | 'float16' | 'uint8');
      out.result(
        { files: r.files, bytes: r.bytes, maxAbsDiff: r.maxAbsDiff, format: r.format, quantize: r.quantize },
        `exported ${m.kind} "${m.name}" to ${values.out}: ${r.files.map((f) => path.basename(f)).join(', ')} (${(r.bytes / 1024).toFixed(0)} KiB), max |diff| ${r.maxAbsDiff.toExponential(2)}`,
      );
      return 0;
    } finally {
      store.close();
    }
  },
};
