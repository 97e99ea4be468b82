// `distill bench [--nets …] [--size 96] [--batch 32] [--iters N] [--pipeline] [--torch]`: training and
// inference throughput, one JSON line per net; with --torch the PyTorch yardstick runs in the same
// process tree and each line carries the ratio.
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { intArg, parseFlags } from '../command.js';
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
  torch: z.boolean().optional(),
});

export const benchCommand: Command = {
  ...commandInfo('bench'),
  async run(args, out) {
    const { values } = parseFlags(
      args,
      { nets: { type: 'string' }, size: { type: 'string' }, batch: { type: 'string' }, iters: { type: 'string' }, repeats: { type: 'string' }, pipeline: { type: 'string' }, torch: { type: 'boolean' } },
      Flags,
    );
    return runBenchCommand({ ...values, nets: values.nets.split(',').map((n) => n.trim()).filter(Boolean) }, out);
  },
};
