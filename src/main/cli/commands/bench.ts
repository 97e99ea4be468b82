// `distill bench [--nets …] [--size 96] [--batch 32] [--iters N] [--pipeline] [--torch]`: training and
// inference throughput, one JSON line per net; with --torch the PyTorch yardstick runs in the same
// process tree and each line carries the ratio.
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { intArg, numArg, parseFlags } from '../command.js';
import { runBenchCommand } from './bench-run.js';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  nets: z.string().default('refnet,mobilenet_v2_035,resnet18'),
  size: intArg().pipe(z.number().int().min(32).max(224)).default(96),
  batch: intArg().pipe(z.number().int().min(1)).default(32),
  iters: intArg().pipe(z.number().int().min(1)).default(10),
  repeats: intArg().pipe(z.number().int().min(1)).default(3),
  pipeline: z.string().optional(),
  'backbone-pass': z.string().optional(),
  torch: z.boolean().optional(),
  profile: z.boolean().optional(),
  recipe: z.string().optional(),
  teacher: z.string().optional(),
  backbone: z.string().optional(),
  params: z.string().default('0.5M'),
  minutes: numArg(z.number().positive()).default(20),
  'teacher-epochs': intArg().pipe(z.number().int().min(1)).default(3),
  seed: intArg().optional(),
  mixup: z.boolean().optional(),
});

export const benchCommand: Command = {
  ...commandInfo('bench'),
  details:
    '--backbone-pass B: also the pretrained backbone\'s feature pass (inference at its own size, batch --batch), what a backbone\n' +
    '  teacher costs per image; with --torch beside PyTorch running the same architecture (bundled backbones).\n' +
    '--profile: instead of throughput, where a training step of each net goes: ms, calls and (convolutions, matmuls) GFLOP/s per\n' +
    '  kernel over --iters steps, beside the GEMM\'s own best on one thread with its operands in cache (plain and fused multiply-add).\n' +
    '--recipe DIR [--teacher MODEL.json | --backbone B] [--params 0.5M] [--minutes 20] [--teacher-epochs 3]: the default recipe on DIR\n' +
    '  (labeled/<class>/, unlabeled/, val/<class>/) through distill itself; JSON lines: the teacher\'s val accuracy, then the\n' +
    '  student\'s after each epoch against wall seconds. --home keeps its dataset, teacher and run (else a temp folder).\n' +
    '  --seed N: the student run\'s seed (repeat a measurement); --mixup: the run blends images, its teacher live.',
  async run(args, out) {
    const { values } = parseFlags(
      args,
      {
        nets: { type: 'string' }, size: { type: 'string' }, batch: { type: 'string' }, iters: { type: 'string' }, repeats: { type: 'string' }, pipeline: { type: 'string' }, 'backbone-pass': { type: 'string' }, torch: { type: 'boolean' },
        profile: { type: 'boolean' }, recipe: { type: 'string' }, teacher: { type: 'string' }, backbone: { type: 'string' }, params: { type: 'string' }, minutes: { type: 'string' }, 'teacher-epochs': { type: 'string' },
        seed: { type: 'string' }, mixup: { type: 'boolean' },
      },
      Flags,
    );
    if (values.recipe) {
      const { runBenchRecipe } = await import('./bench-recipe.js');
      return runBenchRecipe(
        { dir: values.recipe, home: values.home, teacher: values.teacher, backbone: values.backbone, params: values.params, minutes: values.minutes, teacherEpochs: values['teacher-epochs'], seed: values.seed, mixup: values.mixup === true },
        out,
      );
    }
    const nets = values.nets.split(',').map((n) => n.trim()).filter(Boolean);
    if (values.profile) {
      const { runBenchProfile } = await import('./bench-profile.js');
      return runBenchProfile({ nets, size: values.size, batch: values.batch, steps: values.iters }, out);
    }
    return runBenchCommand({ ...values, backbonePass: values['backbone-pass'], nets }, out);
  },
};
