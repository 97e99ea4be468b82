// The default recipe's plan as `distill recipe --json` reports it and the New run page shows it:
// the chosen student, epochs and expected time, with every candidate and why it was or was not chosen.
import { z } from 'zod';
import { FeatureLoss, HintLoss, StudentSpec } from './run-config.js';

export const RecipeCandidateRow = z.object({
  student: StudentSpec,
  params: z.number().int(),
  trainImgPerSec: z.number(),
  epochs: z.number().int(),
  verdict: z.string(),
});

export const RecipePlanResult = z.object({
  student: StudentSpec,
  epochs: z.number().int().positive(),
  expectedMinutes: z.number().nonnegative(),
  feature: FeatureLoss.nullable(),
  /** Matched-channel hints (run config loss.hint); only with the teacher live. */
  hint: HintLoss.nullable(),
  teacherImgPerSec: z.number().nullable(),
  /** 'views': the teacher labels stored crops once; 'off': it runs live, a fresh crop every epoch (run config teacherCache). */
  teacherCache: z.enum(['views', 'off']),
  /** Teacher views per image (run config teacherViews); null when the teacher runs live. */
  views: z.number().int().positive().nullable(),
  table: z.array(RecipeCandidateRow),
});
export type RecipePlanResult = z.infer<typeof RecipePlanResult>;

export const RecipeRequest = z.object({
  dataset: z.string().min(1),
  teacher: z.string().min(1),
  /** "0.5M", "500k" or a plain count. */
  params: z.string().default('0.5M'),
  minutes: z.number().positive().max(24 * 60).default(20),
  useLabels: z.boolean().default(true),
  useUnlabeled: z.boolean().default(true),
});
export type RecipeRequest = z.infer<typeof RecipeRequest>;

/** "30 epochs over 30 teacher views" or "43 epochs with the teacher live (a fresh crop every epoch)": how the CLI says a plan. */
export function recipeEpochsText(p: { epochs: number; teacherCache: 'views' | 'off'; views: number | null }): string {
  const epochs = `${p.epochs} epoch${p.epochs === 1 ? '' : 's'}`;
  if (p.teacherCache === 'off' || p.views === null) return `${epochs} with the teacher live (a fresh crop every epoch)`;
  return `${epochs} over ${p.views} teacher view${p.views === 1 ? '' : 's'}`;
}
