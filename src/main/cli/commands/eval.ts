// `distill eval MODEL --data DIR`: MODEL = run, teacher or a model path.
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import { resolveModel } from '../../engine/model-ref.js';
import { evaluateFolderItems, listClassFolder } from '../../engine/evaluate.js';
import { initBackend } from '../../engine/backend/select.js';

const Flags = z.object({ home: z.string().optional(), json: z.boolean().optional(), data: z.string({ message: 'is required' }) });

export const evalCommand: Command = {
  ...commandInfo('eval'),
  async run(args, out) {
    const { values, positionals } = parseFlags(args, { data: { type: 'string' } }, Flags);
    const ref = positionals[0];
    if (!ref) throw new CliError('eval needs a MODEL (run, teacher or path)', 2);
    const store = openStore(values.home);
    try {
      await initBackend();
      const m = resolveModel(store, ref);
      const items = await listClassFolder(values.data);
      const r = await evaluateFolderItems(m, items);
      out.result(
        { accuracy: r.accuracy, n: r.n, perClass: r.perClass, confusion: r.confusion, skipped: r.skipped },
        `${m.kind} "${m.name}" on ${values.data}: accuracy ${(r.accuracy * 100).toFixed(1)}% (n=${r.n}); ` +
          Object.entries(r.perClass).map(([c, a]) => `${c} ${(a * 100).toFixed(1)}%`).join(', ') +
          (r.skipped.length ? `; skipped ${r.skipped.length} unreadable file(s)` : ''),
      );
      return 0;
    } finally {
      store.close();
    }
  },
};
