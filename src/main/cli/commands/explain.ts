// `distill explain RUN --image FILE [--class NAME]`: Grad-CAM maps of the run's student and of its
// teacher for one image, side by side in the app. Each model explains its own top class unless --class
// names one. A teacher that runs outside tfjs (ONNX) gives no gradients here: it says so.
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import { resolveModel } from '../../jobs/model-ref.js';
import { initBackend } from '../../engine/backend/select.js';
import { loadModelDir } from '../../engine/model-io.js';
import { evalViews } from '../../engine/train/batches.js';
import { gradCam } from '../../engine/explain/grad-cam.js';
import { loadTeacher } from '../../engine/teacher-model.js';
import * as tf from '@tensorflow/tfjs';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  image: z.string({ message: 'is required' }).min(1),
  class: z.string().min(1).optional(),
});

/** The image as the models see it at eval time (resize on the short side, center crop), [1, S, S, 3]. */
async function view(file: string, size: number): Promise<tf.Tensor4D> {
  for await (const b of evalViews([{ key: `explain:${file}`, path: file }], size, { batchSize: 1 })) {
    if (b.failed.length) throw new Error(`${file}: ${b.failed[0]!.error}`);
    return tf.tensor4d(b.x.slice(0, size * size * 3), [1, size, size, 3]);
  }
  throw new Error(`${file}: could not be read`);
}

export const explainCommand: Command = {
  ...commandInfo('explain'),
  async run(args, out) {
    const { values, positionals } = parseFlags(args, { image: { type: 'string' }, class: { type: 'string' } }, Flags);
    const ref = positionals[0];
    if (!ref) throw new CliError('explain needs a RUN', 2);
    const store = openStore(values.home);
    // A run's student is extracted into a temporary folder: removed however the command ends.
    let release = (): void => undefined;
    try {
      await initBackend();
      const m = resolveModel(store, ref);
      release = m.release;
      if (m.kind !== 'run') throw new CliError(`"${ref}" is not a run (explain compares a run's student with its teacher)`, 2);
      const run = store.runs.requireRun(m.id!);
      const classIndex = values.class === undefined ? undefined : m.classes.indexOf(values.class);
      if (classIndex === -1) throw new CliError(`--class ${values.class}: the run's classes are ${m.classes.join(', ')}`, 2);
      const student = await loadModelDir(m.dir);
      const xs = await view(values.image, m.inputSize);
      const s = (() => {
        try {
          return gradCam(student, xs, classIndex);
        } finally {
          xs.dispose();
          student.dispose();
        }
      })();
      let teacher: Record<string, unknown> | null = null;
      const rec = run.teacherId !== null ? store.teachers.getTeacher(run.teacherId) : null;
      if (rec) {
        const t = await loadTeacher(rec, m.classes);
        try {
          if (t.explain) {
            const xt = await view(values.image, t.inputSize);
            try {
              const r = t.explain(xt, classIndex);
              teacher = { name: rec.name, label: m.classes[r.classIndex] ?? null, ...r };
            } finally {
              xt.dispose();
            }
          } else {
            teacher = { name: rec.name, unavailable: `teacher "${rec.name}" runs outside tfjs (${rec.arch}), which gives no gradients here: only the student's map is shown` };
          }
        } finally {
          t.dispose?.();
        }
      }
      const result = { image: values.image, classes: m.classes, run: run.id, student: { label: m.classes[s.classIndex]!, ...s }, teacher };
      out.result(result, `student: ${result.student.label} (${(s.probs[s.classIndex]! * 100).toFixed(1)}%), map ${s.cam.length}×${s.cam[0]?.length ?? 0}` + (teacher ? `; teacher: ${'unavailable' in teacher ? String(teacher.unavailable) : String(teacher.label)}` : '; no teacher'));
      return 0;
    } finally {
      release();
      store.close();
    }
  },
};
