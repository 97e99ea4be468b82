// `distill mine --dataset D --teacher T --per-class K [--min-confidence C]`
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { intArg, numArg, parseFlags } from '../command.js';
import { openStore } from '../open-store.js';
import { mine } from '../../jobs/mine.js';
import { precisionAgainstTruth, readTruthCsv, selectionByClass } from '../../engine/mining/mining-report.js';
import { CliError } from '../output.js';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  dataset: z.string({ message: 'is required' }),
  teacher: z.string({ message: 'is required' }),
  'per-class': intArg().pipe(z.number().int().positive()),
  'min-confidence': numArg(z.number().min(0).max(1)).default(0),
  truth: z.string().optional(),
});

const fmtP = (p: number | null) => (p === null ? '—' : `${(p * 100).toFixed(1)}%`);

export const mineCommand: Command = {
  ...commandInfo('mine'),
  async run(args, out) {
    const { values } = parseFlags(
      args,
      { dataset: { type: 'string' }, teacher: { type: 'string' }, 'per-class': { type: 'string' }, 'min-confidence': { type: 'string' }, truth: { type: 'string' } },
      Flags,
    );
    let truth: Map<string, string> | null = null;
    if (values.truth) {
      try {
        truth = readTruthCsv(values.truth);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
    }
    const store = openStore(values.home);
    try {
      const r = await mine(
        store,
        { dataset: values.dataset, teacher: values.teacher, perClass: values['per-class'], minConfidence: values['min-confidence'] },
        (done, total) => out.event({ type: 'progress', phase: 'mine', done, total }, `teacher predictions ${done}/${total}`),
      );
      const m = r.mining;
      const classes = Object.keys(m.perClassSelected);
      const byClass = selectionByClass(classes, r.selected);
      const precision = truth ? precisionAgainstTruth(classes, r.selected, truth) : undefined;
      const short = Object.entries(m.shortfall).filter(([, n]) => n > 0);
      out.result(
        {
          mining: m.id,
          perClass: m.perClassSelected,
          selected: m.selected,
          shortfall: m.shortfall,
          excludedDuplicates: m.excludedDuplicates,
          belowConfidence: r.belowConfidence,
          selection: byClass,
          ...(precision ? { precision } : {}),
          skipped: r.failed,
        },
        `mining ${m.id}: selected ${m.selected} (${Object.entries(m.perClassSelected).map(([c, n]) => `${c} ${n}`).join(', ')})` +
          (short.length ? `; short of ${values['per-class']}: ${short.map(([c, n]) => `${c} by ${n}`).join(', ')}` : '') +
          (m.excludedDuplicates ? `; ${m.excludedDuplicates} copies of val images excluded` : '') +
          '\n' +
          Object.entries(byClass)
            .map(([c, s]) => `  ${c}: ${s.selected} selected, confidence ${s.minConfidence?.toFixed(3) ?? '—'}–${s.maxConfidence?.toFixed(3) ?? '—'}` +
              (precision ? `, precision ${fmtP(precision.perClass[c]?.precision ?? null)}` : ''))
            .join('\n') +
          (precision ? `\n  precision overall ${fmtP(precision.precision)} (${precision.checked} checked against ${values.truth}${precision.notInTruth ? `, ${precision.notInTruth} not listed there` : ''})` : ''),
      );
      return 0;
    } finally {
      store.close();
    }
  },
};
