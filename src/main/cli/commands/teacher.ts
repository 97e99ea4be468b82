// `distill teacher train NAME …`, `distill teacher import NAME PATH --classes a,b`, `distill teacher ls`.
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { intArg, numArg, parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import { trainTeacher } from '../../jobs/teacher-train.js';
import { importTeacher } from '../../jobs/teacher-import.js';
import { InputRange } from '../../engine/teachers/preprocessing.js';
import { runBackboneTeacherJob } from '../../jobs/train-backbone-teacher.js';

/** "r,g,b" → three numbers. */
const rgbArg = () =>
  z
    .string()
    .transform((s) => s.split(',').map((v) => Number(v.trim())))
    .pipe(z.tuple([z.number(), z.number(), z.number()], { message: 'expected three numbers r,g,b' }));

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  dataset: z.string().optional(),
  arch: z.string().default('resnet18'),
  size: intArg().pipe(z.number().int().min(32).max(224)).default(96),
  epochs: intArg().pipe(z.number().int().min(1)).optional(),
  batch: intArg().pipe(z.number().int().min(1)).optional(),
  lr: numArg(z.number().positive()).optional(),
  seed: intArg().optional(),
  classes: z.string().optional(),
  'input-range': InputRange.optional(),
  backbone: z.string().optional(),
  'feature-layer': z.string().optional(),
  mean: rgbArg().optional(),
  std: rgbArg().pipe(z.tuple([z.number().positive(), z.number().positive(), z.number().positive()])).optional(),
  head: z.enum(['linear', 'mlp']).default('linear'),
  views: intArg().pipe(z.number().int().min(1).max(16)).default(2),
});

/** Epochs of a from-scratch teacher / passes of a head over the cached features. */
const DEFAULT_EPOCHS = { arch: 10, head: 60 };

export const teacherCommand: Command = {
  ...commandInfo('teacher'),
  details:
    'Archs: refnet, mobilenet_v2 (or mobilenet_v2_035/_050/_100), resnet18.\n' +
    'train --backbone B: a frozen pretrained backbone (bundled: mobilenet_v1_075, a TF.js model.json\n' +
    '  or an .onnx file, whose --feature-layer is a graph value name, by default the input of its last Gemm/MatMul) + a head trained on its cached\n' +
    '  pooled features (--feature-layer L: another layer, global-average-pooled; --head linear|mlp; --views N: labeled views, 1 = center crop,\n' +
    '  2 = + mirror (default), more = + random crops; --epochs: passes of the head, default 60).\n' +
    'import: PATH is a TF.js layers or graph model.json, or an .onnx file (run by onnxruntime; its NCHW or NHWC input and its size are\n' +
    '  read from the graph); --input-range 0-255|0-1|-1-1 says what pixel range it expects,\n' +
    '  --mean r,g,b --std r,g,b a per-channel normalization after it (train --backbone takes them too).',
  async run(args, out) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseFlags(
      rest,
      {
        dataset: { type: 'string' }, arch: { type: 'string' }, size: { type: 'string' }, epochs: { type: 'string' },
        batch: { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' }, classes: { type: 'string' },
        'input-range': { type: 'string' }, backbone: { type: 'string' }, 'feature-layer': { type: 'string' },
        mean: { type: 'string' }, std: { type: 'string' }, head: { type: 'string' }, views: { type: 'string' },
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
      if (sub === 'train' && values.backbone !== undefined) {
        if (!values.dataset) throw new CliError('--dataset is required', 2);
        const r = await runBackboneTeacherJob(
          store,
          {
            name,
            dataset: values.dataset,
            backbone: values.backbone,
            featureLayer: values['feature-layer'],
            preprocessing: {
              ...(values['input-range'] ? { range: values['input-range'] } : {}),
              ...(values.mean ? { mean: values.mean } : {}),
              ...(values.std ? { std: values.std } : {}),
            },
            head: values.head,
            epochs: values.epochs ?? DEFAULT_EPOCHS.head,
            views: values.views,
            seed: values.seed,
          },
          {
            progress: (done, total, message) => out.event({ type: 'progress', phase: 'features', done, total, message }, `${message}: ${done}/${total}`),
            info: (message) => out.event({ type: 'info', message }, message),
          },
        );
        const t = r.teacher;
        out.result(
          { teacher: t.id, name: t.name, valAccuracy: t.valAccuracy, perClass: t.perClass, seconds: r.seconds, featuresComputed: r.computed, featuresCached: r.cached },
          `teacher ${t.id} "${t.name}" (${t.arch}@${t.inputSize}): val accuracy ${t.valAccuracy == null ? '—' : (t.valAccuracy * 100).toFixed(1) + '%'}` +
            (t.perClass ? ` (${Object.entries(t.perClass).map(([c, a]) => `${c} ${(a * 100).toFixed(1)}%`).join(', ')})` : '') +
            ` in ${r.seconds.toFixed(1)} s`,
        );
        return 0;
      }
      if (sub === 'train') {
        if (!values.dataset) throw new CliError('--dataset is required', 2);
        const t = await trainTeacher(
          store,
          { name, dataset: values.dataset, arch: values.arch, size: values.size, epochs: values.epochs ?? DEFAULT_EPOCHS.arch, batchSize: values.batch, lr: values.lr, seed: values.seed },
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
        const t = await importTeacher(store, {
          name, path: file, classes,
          preprocessing: { range: values['input-range'] ?? '0-255', ...(values.mean ? { mean: values.mean } : {}), ...(values.std ? { std: values.std } : {}) },
        });
        out.result({ teacher: t.id, inputSize: t.inputSize, classes: t.classes }, `teacher ${t.id} "${t.name}" imported (${t.inputSize}×${t.inputSize}, ${t.classes.join(', ')})`);
        return 0;
      }
      throw new CliError('usage: distill teacher train|import|ls …', 2);
    } finally {
      store.close();
    }
  },
};
