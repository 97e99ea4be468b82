// `distill mine --dataset D --teacher T --per-class K [--min-confidence C]`
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { intArg, numArg, parseFlags } from '../command.js';
import { openStore } from '../open-store.js';
import { mine } from '../../engine/mining/mine.js';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  dataset: z.string({ message: 'is required' }),
  teacher: z.string({ message: 'is required' }),
  'per-class': intArg().pipe(z.number().int().positive()),
  'min-confidence': numArg(z.number().min(0).max(1)).default(0),
});

export const mineCommand: Command = {
  ...commandInfo('mine'),
  async run(args, out) {
    const { values } = parseFlags(
      args,
      { dataset: { type: 'string' }, teacher: { type: 'string' }, 'per-class': { type: 'string' }, 'min-confidence': { type: 'string' } },
      Flags,
    );
    const store = openStore(values.home);
    try {
      const r = await mine(
        store,
        { dataset: values.dataset, teacher: values.teacher, perClass: values['per-class'], minConfidence: values['min-confidence'] },
        (done, total) => out.event({ type: 'progress', phase: 'mine', done, total }, `teacher predictions ${done}/${total}`),
      );
      const m = r.mining;
      const short = Object.entries(m.shortfall).filter(([, n]) => n > 0);
      out.result(
        {
          mining: m.id,
          perClass: m.perClassSelected,
          selected: m.selected,
          shortfall: m.shortfall,
          excludedDuplicates: m.excludedDuplicates,
          belowConfidence: r.belowConfidence,
          skipped: r.failed,
        },
        `mining ${m.id}: selected ${m.selected} (${Object.entries(m.perClassSelected).map(([c, n]) => `${c} ${n}`).join(', ')})` +
          (short.length ? `; short of ${values['per-class']}: ${short.map(([c, n]) => `${c} by ${n}`).join(', ')}` : '') +
          (m.excludedDuplicates ? `; ${m.excludedDuplicates} copies of val images excluded` : ''),
      );
      return 0;
    } finally {
      store.close();
    }
  },
};
