// `distill dataset add NAME --labeled DIR [--unlabeled DIR]… [--val DIR]` and `distill dataset ls`.
import path from 'node:path';
import fs from 'node:fs';
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import { importDataset } from '../../datasets/import.js';
import type { FolderRole } from '../../../shared/domain.js';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  labeled: z.array(z.string()).optional(),
  unlabeled: z.array(z.string()).optional(),
  val: z.array(z.string()).optional(),
});

export const datasetCommand: Command = {
  ...commandInfo('dataset'),
  async run(args, out) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseFlags(
      rest,
      { labeled: { type: 'string', multiple: true }, unlabeled: { type: 'string', multiple: true }, val: { type: 'string', multiple: true } },
      Flags,
    );
    const store = openStore(values.home);
    try {
      if (sub === 'ls' || sub === 'list') {
        const rows = store.datasets.listDatasets();
        for (const d of rows) out.event({ type: 'dataset', ...d }, `${d.id}\t${d.name}\tlabeled ${JSON.stringify(d.labeled)}\tunlabeled ${d.unlabeled}\tval ${JSON.stringify(d.val)}`);
        out.result({ datasets: rows.length }, `${rows.length} dataset(s)`);
        return 0;
      }
      if (sub !== 'add') throw new CliError('usage: distill dataset add NAME --labeled DIR [--unlabeled DIR]… [--val DIR]', 2);
      const name = positionals[0];
      if (!name) throw new CliError('dataset add needs a NAME', 2);
      const folders: { path: string; role: FolderRole }[] = [];
      for (const role of ['labeled', 'unlabeled', 'val'] as const) {
        for (const dir of values[role] ?? []) {
          const abs = path.resolve(dir);
          if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new CliError(`--${role} ${dir}: not a folder`);
          folders.push({ path: abs, role });
        }
      }
      if (folders.length === 0) throw new CliError('dataset add needs at least one of --labeled, --unlabeled, --val', 2);
      const r = await importDataset(store, { name, folders }, (p) =>
        out.event({ type: 'progress', phase: `import-${p.phase}`, done: p.done, total: p.total }, `${p.phase} ${p.done}/${p.total}`),
      );
      const result = {
        dataset: r.dataset.id,
        name: r.dataset.name,
        classes: r.dataset.classes,
        labeled: r.labeled,
        unlabeled: r.unlabeled,
        val: r.val,
        skipped: r.skipped,
        read: r.read,
        unchanged: r.unchanged,
        missing: r.missing,
        duplicates: r.duplicates,
      };
      const human =
        `dataset "${name}": labeled ${JSON.stringify(result.labeled)}, unlabeled ${result.unlabeled}, val ${JSON.stringify(result.val)}` +
        (result.skipped.length ? `\nskipped ${result.skipped.length}:\n` + result.skipped.map((s) => `  ${s.file}: ${s.reason}`).join('\n') : '');
      out.result(result, human);
      return 0;
    } finally {
      store.close();
    }
  },
};
