// `distill runs [ls | show RUN | compare A B …]`
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import { configDiff } from '../../../shared/config-diff.js';

const Flags = z.object({ home: z.string().optional(), json: z.boolean().optional() });
const pct = (v: number | null) => (v == null ? '—' : (v * 100).toFixed(1) + '%');

export const runsCommand: Command = {
  ...commandInfo('runs'),
  async run(args, out) {
    const { values, positionals } = parseFlags(args, {}, Flags);
    const [sub = 'ls', ...refs] = positionals;
    const store = openStore(values.home);
    try {
      if (sub === 'ls' || sub === 'list') {
        const rows = store.runs.listRuns();
        for (const r of rows) {
          out.event(
            { type: 'run', id: r.id, name: r.name, method: r.method, status: r.status, epochsDone: r.epochsDone, bestValAccuracy: r.bestValAccuracy, imgPerSec: r.imgPerSec, backend: r.backend?.active ?? null },
            `${String(r.id).padEnd(4)} ${r.name.padEnd(28)} ${r.method.padEnd(5)} ${r.status.padEnd(10)} ep ${String(r.epochsDone).padEnd(4)} best ${pct(r.bestValAccuracy).padEnd(7)} ${r.imgPerSec?.toFixed(1) ?? '—'} img/s ${r.backend?.active ?? ''}`,
          );
        }
        out.result({ runs: rows.length }, `${rows.length} run(s)`);
        return 0;
      }
      if (sub === 'show') {
        if (!refs[0]) throw new CliError('runs show needs a RUN', 2);
        const run = store.runs.requireRun(refs[0]);
        const checkpoints = store.checkpoints.listCheckpoints(run.id);
        const confusion = run.status !== 'queued' ? store.runPredictions.runConfusion(run.id, store.runs.getRunClasses(run.id) ?? []) : null;
        out.result({ ...run, checkpoints, confusion });
        return 0;
      }
      if (sub === 'compare') {
        if (refs.length < 2) throw new CliError('runs compare needs two or more runs', 2);
        const runs = refs.map((r) => store.runs.requireRun(r));
        const diff = configDiff(runs.map((r) => r.config)).filter((d) => d.differs);
        const table = runs.map((r) => ({ run: r.id, name: r.name, method: r.method, bestValAccuracy: r.bestValAccuracy, lastValAccuracy: r.lastValAccuracy, wallSeconds: r.wallSeconds, params: r.params, imgPerSec: r.imgPerSec, backend: r.backend?.active ?? null }));
        out.result(
          { runs: table, configDiff: diff },
          table.map((t) => `${t.name}: best ${pct(t.bestValAccuracy)}, ${t.wallSeconds?.toFixed(0) ?? '—'} s, ${t.params ?? '—'} params, ${t.imgPerSec?.toFixed(1) ?? '—'} img/s`).join('\n') +
            '\n' + diff.map((d) => `${d.path}: ${d.values.map((v) => JSON.stringify(v)).join(' | ')}`).join('\n'),
        );
        return 0;
      }
      throw new CliError('usage: distill runs [ls | show RUN | compare A B …]', 2);
    } finally {
      store.close();
    }
  },
};
