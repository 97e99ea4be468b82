// `distill sweep --config FILE --grid path=v1,v2,… [--grid …]`: a grid of runs, one after another,
// grouped under one sweep. Ctrl-C stops the sweep and keeps the finished runs.
import fs from 'node:fs';
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import { RunConfig } from '../../../shared/run-config.js';
import { formatSweepValue, axisLabel, parseGridFlag, SweepGrid, type SweepValues } from '../../../shared/sweep.js';
import { executeSweep, type SweepPointResult } from '../../jobs/sweep-job.js';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  config: z.string({ error: 'is required (the base run config, a JSON file)' }),
  grid: z.array(z.string()).min(1, 'give at least one --grid path=v1,v2,…'),
  name: z.string().min(1).optional(),
});

function readBase(file: string, name: string | undefined): RunConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`--config ${file}: ${err instanceof Error ? err.message : String(err)}`, 2);
  }
  if (name && raw && typeof raw === 'object') raw = { ...raw, name };
  const parsed = RunConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CliError(`--config ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, 2);
  }
  return parsed.data;
}

const valuesText = (v: SweepValues) =>
  Object.entries(v)
    .map(([p, x]) => `${axisLabel(p)}=${formatSweepValue(x)}`)
    .join(', ');
const pct = (v: number | null) => (v == null ? '—' : `${(v * 100).toFixed(1)}%`);
const brief = (r: SweepPointResult) => ({ run: r.run, values: r.values, valAccuracy: r.valAccuracy });

export const sweepCommand: Command = {
  ...commandInfo('sweep'),
  details:
    'Each --grid is a dotted run-config path and its values; values are JSON where they parse, so progressive τ is\n' +
    '  --grid \'loss.temperature={"start":6,"end":2},{"start":4,"end":1}\'  (or loss.temperature.end=1,2 on a {start,end} base).\n' +
    'Runs are named <name>/τ=2,α=0.5 and grouped under the sweep id; the grid is checked whole before the first run starts.\n' +
    'A run that fails is recorded and the sweep goes on. Ctrl-C marks the current run cancelled and stops; finished runs are kept.',
  async run(args, out) {
    const { values } = parseFlags(args, { config: { type: 'string' }, grid: { type: 'string', multiple: true }, name: { type: 'string' } }, Flags);
    const base = readBase(values.config, values.name);
    let grid: SweepGrid;
    try {
      const parsed = SweepGrid.safeParse(values.grid.map(parseGridFlag));
      if (!parsed.success) throw new Error(`--grid: ${parsed.error.issues[0]!.message}`);
      grid = parsed.data;
    } catch (err) {
      throw new CliError((err as Error).message, 2);
    }
    const store = openStore(values.home);
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);
    try {
      let outcome;
      try {
        outcome = await executeSweep(store, base, grid, {
          signal: ac.signal,
          events: {
            sweepCreated: (s, n) => out.event({ type: 'sweep', sweep: s.id, points: n }, `sweep ${s.id} "${s.name}": ${n} runs`),
            runCreated: (run, name, v, i, n) => out.event({ type: 'run', run, name, values: v }, `[${i + 1}/${n}] run ${run} "${name}" (${valuesText(v)})`),
            runFinished: (r) =>
              out.event(
                { type: 'sweep-run', run: r.run, status: r.status, values: r.values, valAccuracy: r.valAccuracy, ...(r.error ? { error: r.error } : {}) },
                `  → ${r.status}: val accuracy ${pct(r.valAccuracy)}${r.error ? ` (${r.error.split('\n')[0]})` : ''}`,
              ),
            progress: (done, total, message) =>
              out.event({ type: 'progress', phase: 'train', done, total, message }, `${message}: step ${done}/${total}`),
            info: (message) => out.event({ type: 'info', message }, message),
          },
        });
      } catch (err) {
        throw new CliError(err instanceof Error ? err.message : String(err));
      }
      const result = { sweep: outcome.sweep.id, status: outcome.sweep.status, runs: outcome.runs.map(brief), best: outcome.best ? brief(outcome.best) : null };
      if (outcome.sweep.status === 'cancelled') {
        // The partial result first, then the error line the contract asks for.
        out.event({ type: 'sweep-result', ...result });
        throw new CliError(`sweep ${outcome.sweep.id} cancelled after ${outcome.runs.filter((r) => r.status === 'completed').length} finished run(s); they are kept (${outcome.skipped} not started)`, 130);
      }
      if (outcome.sweep.status === 'failed') throw new CliError(`sweep ${outcome.sweep.id}: every run failed; first: ${outcome.sweep.error ?? '?'}`);
      const best = outcome.best;
      out.result(
        result,
        [
          `sweep ${result.sweep}: ${outcome.runs.length} runs`,
          ...outcome.runs.map((r) => `  ${String(r.run).padStart(4)}  ${valuesText(r.values).padEnd(28)} ${r.status === 'completed' ? pct(r.valAccuracy) : r.status}`),
          best ? `best: run ${best.run} (${valuesText(best.values)}) ${pct(best.valAccuracy)}` : 'best: — (no run reported a val accuracy)',
        ].join('\n'),
      );
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      store.close();
    }
  },
};
