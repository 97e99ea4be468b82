// `distill recipe --dataset D --teacher T [--params 0.5M] [--minutes 20] [--backbone B] [--no-labels]`:
// the default recipe's plan without starting a run — what `distill run` would pick for an SSLD run with
// no student named, with the expected time; the New run page shows it before the user starts.
import { z } from 'zod';
import type { Command } from '../command.js';
import { commandInfo } from '../command-list.js';
import { numArg, parseFlags } from '../command.js';
import { CliError } from '../output.js';
import { openStore } from '../open-store.js';
import { parseParamBudget } from '../../engine/recipe/choose.js';
import { recipeEpochsText, type RecipePlanResult } from '../../../shared/recipe-plan.js';
import { FeatureLoss, HintLoss } from '../../../shared/run-config.js';

const Flags = z.object({
  home: z.string().optional(),
  json: z.boolean().optional(),
  dataset: z.string({ message: 'is required' }).min(1),
  teacher: z.string({ message: 'is required' }).min(1),
  params: z.string().default('0.5M'),
  minutes: numArg(z.number().positive()).default(20),
  backbone: z.string().min(1).optional(),
  'no-labels': z.boolean().optional(),
  'no-unlabeled': z.boolean().optional(),
});

export const recipeCommand: Command = {
  ...commandInfo('recipe'),
  async run(args, out) {
    const { values } = parseFlags(
      args,
      {
        dataset: { type: 'string' }, teacher: { type: 'string' }, params: { type: 'string' }, minutes: { type: 'string' }, backbone: { type: 'string' },
        'no-labels': { type: 'boolean' }, 'no-unlabeled': { type: 'boolean' },
      },
      Flags,
    );
    let maxParams: number;
    try {
      maxParams = parseParamBudget(values.params);
    } catch (err) {
      throw new CliError(err instanceof Error ? err.message : String(err), 2);
    }
    const store = openStore(values.home);
    try {
      const { runRecipe } = await import('./run-recipe.js');
      const plan = await runRecipe(store, out, {
        dataset: values.dataset,
        teacher: values.teacher,
        maxParams,
        minutes: values.minutes,
        backbone: values.backbone,
        useLabels: !values['no-labels'],
        useUnlabeled: !values['no-unlabeled'],
      });
      const result: RecipePlanResult = {
        student: plan.student,
        epochs: plan.epochs,
        expectedMinutes: plan.expectedSeconds / 60,
        feature: plan.feature ? FeatureLoss.parse(plan.feature) : null,
        hint: plan.hint ? HintLoss.parse(plan.hint) : null,
        teacherImgPerSec: plan.teacherImgPerSec,
        teacherCache: plan.teacherCache,
        views: plan.views,
        table: plan.table.map((r) => ({ student: r.student, params: r.params, trainImgPerSec: r.trainImgPerSec, epochs: r.epochs, verdict: r.verdict })),
      };
      out.result(result, `${JSON.stringify(result.student)} for ${recipeEpochsText(result)}${result.hint ? ' + hints' : ''}, about ${result.expectedMinutes.toFixed(1)} min`);
      return 0;
    } finally {
      store.close();
    }
  },
};
