// `distill teacher train NAME …`, `distill teacher import NAME PATH --classes a,b`, `distill teacher ls`.
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { intArg, numArg, parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import { trainTeacher } from '../../engine/teacher-train.js';
import { importTeacher } from '../../engine/teacher-import.js';
import { InputRange, parseRgb, Preprocessing } from '../../engine/teachers/preprocessing.js';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  dataset: z.string().optional(),
  arch: z.string().default('resnet18'),
  size: intArg().pipe(z.number().int().min(32).max(224)).default(96),
  epochs: intArg().pipe(z.number().int().min(1)).default(10),
  batch: intArg().pipe(z.number().int().min(1)).optional(),
  lr: numArg(z.number().positive()).optional(),
  seed: intArg().optional(),
  classes: z.string().optional(),
  'input-range': InputRange.default('0-255'),
  mean: z.string().optional(),
  std: z.string().optional(),
});

/** --input-range, --mean, --std → the model's input contract (mean/std are in the units of the range). */
function preprocessingFlags(v: { 'input-range': InputRange; mean?: string; std?: string }): Preprocessing {
  if ((v.mean == null) !== (v.std == null)) throw new CliError('--mean and --std go together', 2);
  try {
    return Preprocessing.parse({
      range: v['input-range'],
      mean: v.mean == null ? undefined : parseRgb(v.mean, '--mean'),
      std: v.std == null ? undefined : parseRgb(v.std, '--std'),
    });
  } catch (err) {
    throw new CliError(err instanceof z.ZodError ? `--std: ${err.issues.map((i) => i.message).join('; ')}` : (err as Error).message, 2);
  }
}

export const teacherCommand: Command = {
  ...commandInfo('teacher'),
  details:
    'Archs: refnet, mobilenet_v2 (or mobilenet_v2_035/_050/_100), resnet18.\n' +
    'import: PATH is a TF.js layers or graph model.json, or an .onnx file (run by onnxruntime; NCHW or NHWC input and its size are read\n' +
    'from the graph). --input-range 0-255|0-1|-1-1 says what pixel range it expects; --mean r,g,b --std r,g,b then normalize per\n' +
    'channel, in the units of that range (e.g. --input-range 0-1 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225).',
  async run(args, out) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseFlags(
      rest,
      {
        dataset: { type: 'string' }, arch: { type: 'string' }, size: { type: 'string' }, epochs: { type: 'string' },
        batch: { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' }, classes: { type: 'string' },
        'input-range': { type: 'string' }, mean: { type: 'string' }, std: { type: 'string' },
      },
      Flags,
    );
    const store = openStore(values.home);
    try {
      if (sub === 'ls' || sub === 'list') {
        const rows = store.teachers.listTeachers();
        for (const t of rows) out.event({ type: 'teacher', ...t }, `${t.id}\t${t.name}\t${t.arch}@${t.inputSize}\tval ${t.valAccuracy == null ? '—' : (t.valAccuracy * 100).toFixed(1) + '%'}\t${t.classes.join(',')}`);
        out.result({ teachers: rows.length }, `${rows.length} teacher(s)`);
        return 0;
      }
      const name = positionals[0];
      if (!name) throw new CliError(`teacher ${sub ?? ''} needs a NAME`, 2);
      if (sub === 'train') {
        if (!values.dataset) throw new CliError('--dataset is required', 2);
        const t = await trainTeacher(
          store,
          { name, dataset: values.dataset, arch: values.arch, size: values.size, epochs: values.epochs, batchSize: values.batch, lr: values.lr, seed: values.seed },
          {
            progress: (done, total, message) => out.event({ type: 'progress', phase: 'train', done, total, message }, `${message}: step ${done}/${total}`),
            info: (message) => out.event({ type: 'info', message }, message),
          },
        );
        out.result(
          { teacher: t.id, name: t.name, valAccuracy: t.valAccuracy, perClass: t.perClass },
          `teacher ${t.id} "${t.name}" (${t.arch}@${t.inputSize}): val accuracy ${t.valAccuracy == null ? '—' : (t.valAccuracy * 100).toFixed(1) + '%'}`,
        );
        return 0;
      }
      if (sub === 'import') {
        const file = positionals[1];
        if (!file) throw new CliError('teacher import needs a PATH to a model.json or an .onnx file', 2);
        if (!values.classes) throw new CliError('--classes a,b is required', 2);
        const classes = values.classes.split(',').map((c) => c.trim()).filter(Boolean);
        const t = await importTeacher(store, { name, path: file, classes, preprocessing: preprocessingFlags(values) });
        out.result({ teacher: t.id, inputSize: t.inputSize, classes: t.classes }, `teacher ${t.id} "${t.name}" imported (${t.inputSize}×${t.inputSize}, ${t.classes.join(', ')})`);
        return 0;
      }
      throw new CliError('usage: distill teacher train|import|ls …', 2);
    } finally {
      store.close();
    }
  },
};
